package org.lacuna.codegen;

/**
 * The register tile of {@code org.lacuna.runtime.cpu.kernels.VectorSgemm} (the BLIS-style dense GEMM behind
 * {@code Sgemm.multiply}): C[{@link #MR} × {@link #VECTORS} vectors] loaded from C (or zero), then for each p of the
 * packed panels {@link #VECTORS} vectors of packed B, and row by row one broadcast A element and its FMAs, then every
 * accumulator stored back in row order. The packed A panel holds MR floats per p, the packed B panel NR floats per
 * p. VectorSgemm keeps the packing, the blocking and the edge tiles (which run this tile on a padded copy).
 */
final class VectorSgemmTile extends GeneratedClass {
    /**
     * Rows of the register tile: 4 × 6 vector accumulators leave registers for six B vectors and an A broadcast (31
     * of AVX-512's 32). Each p then runs 6 B loads and 4 broadcasts per 24 FMAs, where the earlier 12 × 2 tile ran
     * 2 loads and 12 broadcasts: on Zen 4 (AVX-512 executed as two 256-bit halves) the broadcasts were what held it
     * back, and 4 × 6 took 96-105 instead of 86-95 GFLOP/s on one thread over MiniLM's 128-token QKV, output and FFN
     * shapes (F16 weights packed once, A in place; 6 × 4 took 93-102, 8 × 3 75-82, 2 × 12 76-99; measured ad hoc in
     * one JVM, interleaved, medians of 50, not kept as a record). At 128 tokens the 4-row tiles also end evenly, where
     * 12-row ones computed 132 rows. (The 12 × 2 tile had replaced a 6 × 2 one on an Intel Xeon: 133-140 against
     * 100-114 GFLOP/s.) C1 still compiles the body at tier 3 (checked with -XX:TieredStopAtLevel=3
     * -XX:+PrintCompilation; see VectorSparseTiles on that pitfall).
     */
    static final int MR = 4;
    /** Vectors per row of the register tile. */
    static final int VECTORS = 6;

    VectorSgemmTile() {
        super("org.lacuna.runtime.cpu.kernels");
    }

    @Override
    String source() {
        JavaWriter java = new JavaWriter(packageName(), getClass(), "jdk.incubator.vector.FloatVector",
                "jdk.incubator.vector.VectorSpecies");
        java.line("/** VectorSgemm's %d × %d-vector register tile; see the emitter. */", MR, VECTORS);
        java.open("final class VectorSgemmTile");
        java.line("private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;");
        java.line("private static final int LANES = SPECIES.length();");
        java.line("/** Rows of the register tile: %d × %d vector accumulators leave registers for %d B vectors and"
                + " an A broadcast. */", MR, VECTORS, VECTORS);
        java.line("static final int MR = %d;", MR);
        java.line("/** Columns of the register tile: %d vectors. */", VECTORS);
        java.line("static final int NR = %d * LANES;", VECTORS);
        java.blank();
        java.open("private VectorSgemmTile()").close();
        java.blank();
        tile(java);
        java.blank();
        tileInPlace(java);
        java.close();
        return java.toString();
    }

    /**
     * {@code tileInPlace}: the same register tile with A read where it lies (row {@code i} of the tile at
     * {@code aTile + i · lda}) instead of from a packed panel, for a linear layer's packed weight (B), where packing
     * A was a scalar transposing copy that each thread made of the same rows: 78 µs per thread and call at 128 ×
     * 1536 beside a 540 µs GEMM. Each element is still {@code fma(a[p], b[p], c)} for p in order, so the bits are
     * the packed tile's. A tile with fewer rows left ({@code rows}) than MR repeats its last row, A's and C's: both
     * copies compute the same bits from the same start and store them to the same place.
     */
    private static void tileInPlace(JavaWriter java) {
        java.line("/** The register tile over A in place: C[rows × NR] (+)= A[rows × kc] (row stride lda) · packed B"
                + " panel; see the emitter. */");
        java.line("static void tileInPlace(int kc, float[] a, int aTile, int lda, int rows, float[] pb, int bPanel,"
                + " float[] c,");
        java.open("        int cTile, int ldc, boolean load)");
        java.line("FloatVector %s;", JavaWriter.joined(MR * VECTORS, ", ", e -> accumulator(e / VECTORS, e % VECTORS)));
        java.line("int last = rows - 1;");
        java.each(MR, i -> i == 0 ? "int a0 = aTile;" : JavaWriter.format("int a%d = aTile + Math.min(%d, last) * lda;",
                i, i));
        java.each(MR, i -> i == 0 ? "int r0 = cTile;" : JavaWriter.format("int r%d = cTile + Math.min(%d, last) * ldc;",
                i, i));
        accumulatorsLoadedOrZeroed(java);
        java.line("int bi = bPanel;");
        java.open("for (int p = 0; p < kc; p++, bi += NR)");
        java.each(VECTORS, v -> JavaWriter.format("FloatVector b%d = FloatVector.fromArray(SPECIES, pb, %s);", v,
                JavaWriter.offset("bi", v, "LANES")));
        for (int i = 0; i < MR; i++) {
            int row = i;
            java.line("%s = FloatVector.broadcast(SPECIES, a[a%d + p]);", row == 0 ? "FloatVector x" : "x", row);
            java.each(VECTORS, v -> JavaWriter.format("%s = x.fma(b%d, %s);", accumulator(row, v), v, accumulator(row, v)));
        }
        java.close();
        // Last row first: a repeated row's copies hold the same values, so the order only needs to be fixed.
        for (int e = MR * VECTORS - 1; e >= 0; e--) {
            java.line("%s.intoArray(c, %s);", accumulator(e / VECTORS, e % VECTORS), rowOffset(e));
        }
        java.close();
    }

    /** Both tiles start alike: each accumulator C's value where the call adds to C ({@code load}), else zero. */
    private static void accumulatorsLoadedOrZeroed(JavaWriter java) {
        java.open("if (load)");
        java.each(MR * VECTORS, e -> JavaWriter.format("%s = FloatVector.fromArray(SPECIES, c, %s);",
                accumulator(e / VECTORS, e % VECTORS), rowOffset(e)));
        java.closeOpen("else");
        java.line("FloatVector zero = FloatVector.zero(SPECIES);");
        java.each(MR * VECTORS, e -> accumulator(e / VECTORS, e % VECTORS) + " = zero;");
        java.close();
    }

    private static void tile(JavaWriter java) {
        java.line("/** The register tile: C[MR × NR] (+)= packed A panel · packed B panel over kc. */");
        java.line("static void tile(int kc, float[] pa, int aPanel, float[] pb, int bPanel, float[] c, int cTile,"
                + " int ldc,");
        java.open("        boolean load)");
        java.line("FloatVector %s;", JavaWriter.joined(MR * VECTORS, ", ", e -> accumulator(e / VECTORS, e % VECTORS)));
        java.each(MR, i -> i == 0 ? "int r0 = cTile;" : JavaWriter.format("int r%d = r%d + ldc;", i, i - 1));
        accumulatorsLoadedOrZeroed(java);
        java.line("int ai = aPanel;");
        java.line("int bi = bPanel;");
        java.open("for (int p = 0; p < kc; p++, ai += MR, bi += NR)");
        java.each(VECTORS, v -> JavaWriter.format("FloatVector b%d = FloatVector.fromArray(SPECIES, pb, %s);", v,
                JavaWriter.offset("bi", v, "LANES")));
        for (int i = 0; i < MR; i++) {
            int row = i;
            java.line("%s = FloatVector.broadcast(SPECIES, pa[%s]);", row == 0 ? "FloatVector a" : "a",
                    row == 0 ? "ai" : "ai + " + row);
            java.each(VECTORS, v -> JavaWriter.format("%s = a.fma(b%d, %s);", accumulator(row, v), v, accumulator(row, v)));
        }
        java.close();
        java.each(MR * VECTORS, e -> JavaWriter.format("%s.intoArray(c, %s);", accumulator(e / VECTORS, e % VECTORS),
                rowOffset(e)));
        java.close();
    }

    private static String accumulator(int row, int vector) {
        return "c" + row + vector;
    }

    /** Where accumulator {@code e} (row-major) lives in C: its row's start plus its vector's lanes. */
    private static String rowOffset(int e) {
        return JavaWriter.offset("r" + e / VECTORS, e % VECTORS, "LANES");
    }
}
