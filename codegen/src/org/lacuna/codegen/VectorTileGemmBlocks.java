package org.lacuna.codegen;

import java.util.List;

/**
 * The register blocks of {@code org.lacuna.runtime.cpu.kernels.VectorTileGemm} (the fused sparse convolution's tile
 * GEMM), one method {@code rows<R>x<V>} per shape of {@link #SHAPES}: R rows of C by V vectors, R × V accumulators
 * loaded from C, a k loop that loads V vectors of a B row and, row by row, broadcasts one A element and runs V FMAs,
 * then the accumulators stored back, last row first. A, B and C are read in place: A's rows at {@code lda}, B's at
 * {@code ldb} from {@code bAt}, and C's row i at {@code rows[i] + col} (the gathered output rows). A block with
 * fewer rows left ({@code count}) than it holds repeats its last row: the same A row and C row, so both copies compute
 * the same bits and store them to the same place. VectorTileGemm keeps the blocking and chooses the shapes.
 */
final class VectorTileGemmBlocks extends GeneratedClass {
    /** Rows × vectors of each block, widest first, in the order VectorTileGemm uses them; 16 accumulators or fewer. */
    static final List<Shape> SHAPES = List.of(new Shape(4, 4), new Shape(8, 2), new Shape(6, 1));

    /** One block shape: {@code rows} rows of C by {@code vectors} vectors of the preferred width. */
    record Shape(int rows, int vectors) {
    }

    VectorTileGemmBlocks() {
        super("org.lacuna.runtime.cpu.kernels");
    }

    @Override
    String source() {
        JavaWriter java = new JavaWriter(packageName(), getClass(), "jdk.incubator.vector.FloatVector",
                "jdk.incubator.vector.VectorSpecies");
        java.line("/** VectorTileGemm's register blocks, one method per rows × vectors shape; see the emitter. */");
        java.open("final class VectorTileGemmBlocks");
        java.line("private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;");
        java.line("private static final int L = S.length();");
        java.blank();
        java.open("private VectorTileGemmBlocks()").close();
        for (Shape shape : SHAPES) {
            java.blank();
            block(java, shape.rows(), shape.vectors());
        }
        java.blank();
        java.open("private static FloatVector load(float[] array, int at)");
        java.line("return FloatVector.fromArray(S, array, at);");
        java.close();
        java.close();
        return java.toString();
    }

    /**
     * {@code rows<R>x<V>}: C's rows {@code first .. first+count-1} at column {@code col} += A's k columns from
     * {@code column} · B's k rows from {@code bAt}.
     */
    private static void block(JavaWriter java, int rows, int vectors) {
        java.line("/** %d rows × %d vector%s of C += A · B over k; fewer than %d rows repeat the last one. */", rows,
                vectors, vectors == 1 ? "" : "s", rows);
        java.line("static void rows%dx%d(int k, float[] a, int lda, int column, int first, int count, float[] b,",
                rows, vectors);
        java.open("        int bAt, int ldb, float[] c, int[] rows, int col)");
        java.line("int last = first + count - 1;");
        java.each(rows, i -> JavaWriter.format("int a%d = %s * lda + column;", i, clampedRow(i, rows)));
        java.each(rows, i -> JavaWriter.format("int r%d = rows[%s] + col;", i, clampedRow(i, rows)));
        java.each(rows, i -> "FloatVector " + JavaWriter.joined(vectors, ", ",
                v -> JavaWriter.format("c%d%d = load(c, %s)", i, v, JavaWriter.offset("r" + i, v, "L"))) + ";");
        java.open("for (int p = 0; p < k; p++)");
        java.line("int bp = bAt + p * ldb;");
        java.each(vectors, v -> JavaWriter.format("FloatVector b%d = load(b, %s);", v, JavaWriter.offset("bp", v, "L")));
        for (int i = 0; i < rows; i++) {
            int row = i;
            java.line("FloatVector x%d = FloatVector.broadcast(S, a[a%d + p]);", row, row);
            java.each(vectors, v -> JavaWriter.format("c%d%d = b%d.fma(x%d, c%d%d);", row, v, v, row, row, v));
        }
        java.close();
        for (int i = rows - 1; i >= 0; i--) {
            int row = i;
            java.each(vectors, v -> JavaWriter.format("c%d%d.intoArray(c, %s);", row, v,
                    JavaWriter.offset("r" + row, v, "L")));
        }
        java.close();
    }

    /** Row {@code i} of the block, clamped to the last row the block really has. */
    private static String clampedRow(int i, int rows) {
        if (i == 0) {
            return "first";
        }
        return i == rows - 1 ? "last" : "Math.min(first + " + i + ", last)";
    }
}
