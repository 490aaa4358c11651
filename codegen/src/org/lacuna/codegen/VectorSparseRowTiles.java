package org.lacuna.codegen;

import java.util.List;
import java.util.function.BiFunction;

/**
 * The sparse GEMM's register tiles ({@code org.lacuna.runtime.cpu.kernels.VectorSparseRowTiles}, called by
 * {@code VectorSparseTiles}, which explains the tile shapes and their measurements): weight rows of a 2:4 or CSR
 * matrix against a panel of token vectors, each accumulator a named local so that C2 keeps it in a register.
 *
 * <p>A tile is a format, a width and a row count. Its accumulator {@code a<r><k>} holds row r's k-th vector of tokens
 * ({@code c[cOffset + (r · vectors + k) · LANES]}). Per stored weight value the tile broadcasts the value once and
 * multiplies it into every vector of its row's accumulators; a 2:4 group decodes its nibble into the offsets of its
 * two kept positions in the group's slice of the panel, a CSR entry slices the panel at its column. Two rows advance
 * together (independent chains), the second reusing the first row's temporaries.
 */
final class VectorSparseRowTiles extends GeneratedClass {
    /** Vectors of tokens in the wide tile ({@code VectorSparseTiles.WIDE} is this many vectors). */
    static final int WIDE_VECTORS = 8;
    /** Values a 2:4 group keeps: value s sits at the position in bits {@code 2s..2s+1} of the group's nibble. */
    private static final int KEPT = 2;
    private static final String[] ROW_COUNTS = {"", "OneRow", "TwoRows"};
    private static final String KERNELS = "org.lacuna.runtime.cpu.kernels";

    private enum Format {
        TWO_FOUR("twoFour", "TwoFourMatrix"),
        CSR("csr", "CsrRows");

        final String prefix;
        final String matrix;

        Format(String prefix, String matrix) {
            this.prefix = prefix;
            this.matrix = matrix;
        }
    }

    /**
     * One tile: {@code vectors} vectors of tokens ({@link #WIDE_VECTORS}, or one for the narrow tile) by {@code rows}
     * weight rows.
     */
    private record Tile(Format format, int vectors, int rows) {
        String name() {
            return format.prefix + ROW_COUNTS[rows] + (vectors == 1 ? "Narrow" : "Wide");
        }

        /** The panel's tile width in tokens, by the constant's name. */
        String width() {
            return vectors == 1 ? "LANES" : "WIDE";
        }

        /** One CSR row takes its entry range (the caller may have done the first entries with another row). */
        boolean entryRange() {
            return format == Format.CSR && rows == 1;
        }

        String accumulator(int row, int k) {
            return "a" + row + k;
        }

        String cIndex(int row, int k) {
            return JavaWriter.offset("cOffset", row * vectors + k, "LANES");
        }
    }

    private static final List<Tile> TILES = List.of(
            new Tile(Format.TWO_FOUR, WIDE_VECTORS, 1),
            new Tile(Format.CSR, WIDE_VECTORS, 1),
            new Tile(Format.TWO_FOUR, 1, 1),
            new Tile(Format.TWO_FOUR, 1, 2),
            new Tile(Format.CSR, 1, 1),
            new Tile(Format.CSR, 1, 2));

    VectorSparseRowTiles() {
        super(KERNELS);
    }

    @Override
    String source() {
        String constants = "static " + KERNELS + ".VectorSparseTiles.";
        JavaWriter java = new JavaWriter(packageName(), getClass(), "java.lang.foreign.MemorySegment",
                "jdk.incubator.vector.FloatVector", constants + "LANES", constants + "ORDER", constants + "SPECIES",
                constants + "WIDE");
        java.line("/** The unrolled register tiles of {@link VectorSparseTiles} (see there for their shapes). */");
        java.open("final class VectorSparseRowTiles");
        java.line("/** Vectors of tokens in the wide tile. */");
        java.line("static final int WIDE_VECTORS = %d;", WIDE_VECTORS);
        java.line("private static final long VECTOR_BYTES = 4L * LANES;");
        java.blank();
        java.open("private VectorSparseRowTiles()").close();
        for (Tile tile : TILES) {
            java.blank();
            tile(java, tile);
        }
        java.close();
        return java.toString();
    }

    private static void tile(JavaWriter java, Tile tile) {
        String entries = tile.entryRange() ? "int begin, int end" : tile.format == Format.CSR ? "int row0, int count"
                : "int row0, int block";
        java.open("static void %s(%s w, %s, MemorySegment panel, long base, float[] c, int cOffset)", tile.name(),
                tile.format.matrix, entries);
        if (tile.format == Format.TWO_FOUR) {
            java.line("float[] values = w.values();");
            java.line("byte[] nibbles = w.nibbles();");
            java.line("int count = w.blockGroups(block);");
            java.line("int b0 = w.blockRow(block, row0);");
            java.each(tile.rows - 1, r -> JavaWriter.format("int b%d = b%d + count;", r + 1, r));
            java.line("long first = base + 4L * block * TwoFourMatrix.BLOCK_GROUPS * 4L * %s;", tile.width());
        } else {
            if (!tile.entryRange()) {
                java.line("int[] offsets = w.rowOffsets();");
            }
            java.line("int[] columns = w.columns();");
            java.line("float[] values = w.values();");
            if (!tile.entryRange()) {
                java.each(tile.rows, r -> JavaWriter.format("int e%d = offsets[row0 + %d];", r, r));
            }
        }
        eachAccumulator(java, tile,
                (a, at) -> "FloatVector " + a + " = FloatVector.fromArray(SPECIES, c, " + at + ");");
        if (tile.format == Format.TWO_FOUR) {
            twoFourGroups(java, tile);
        } else {
            csrEntries(java, tile);
        }
        eachAccumulator(java, tile, (a, at) -> a + ".intoArray(c, " + at + ");");
        java.close();
    }

    /**
     * Per group of the column block: the group's slice, then per row its nibble's two offsets, two broadcasts and
     * their FMAs. The block's rows are stored one after the other ({@code TwoFourMatrix}), so a row's groups are
     * {@code b<r> + g}.
     */
    private static void twoFourGroups(JavaWriter java, Tile tile) {
        String width = tile.width();
        java.open("for (int g = 0; g < count; g++)");
        java.line("MemorySegment group = panel.asSlice(first + 4L * g * 4L * %s, 4L * 4L * %s);", width, width);
        for (int r = 0; r < tile.rows; r++) {
            int row = r;
            java.line("%sn = nibbles[b%d + g];", declared(row, "int"), row);
            java.each(KEPT, s -> JavaWriter.format("%sx%d = %s * 4L * %s;", declared(row, "long"), s,
                    s == 0 ? "(n & 3)" : "((n >>> " + 2 * s + ") & 3)", width));
            java.each(KEPT, s -> JavaWriter.format("%sv%d = FloatVector.broadcast(SPECIES, values[2 * (b%d + g)%s]);",
                    declared(row, "FloatVector"), s, row, s == 0 ? "" : " + " + s));
            for (int s = 0; s < KEPT; s++) {
                fmas(java, tile, row, "v" + s, "group", "x" + s);
            }
        }
        java.close();
    }

    /** Per entry and row: the entry's column of the panel, one broadcast and its FMAs. */
    private static void csrEntries(JavaWriter java, Tile tile) {
        java.open(tile.entryRange() ? "for (int i = begin; i < end; i++)" : "for (int i = 0; i < count; i++)");
        for (int r = 0; r < tile.rows; r++) {
            String entry = tile.entryRange() ? "i" : "e" + r + " + i";
            java.line("%scolumn = panel.asSlice(base + columns[%s] * 4L * %s, 4L * %s);", declared(r, "MemorySegment"),
                    entry, tile.width(), tile.width());
            java.line("%sv = FloatVector.broadcast(SPECIES, values[%s]);", declared(r, "FloatVector"), entry);
            fmas(java, tile, r, "v", "column", "");
        }
        java.close();
    }

    /** {@code a<row><k> = value · panel[from + k vectors] + a<row><k>} for every vector k of the row. */
    private static void fmas(JavaWriter java, Tile tile, int row, String value, String slice, String from) {
        java.each(tile.vectors, k -> JavaWriter.format(
                "%s = %s.fma(FloatVector.fromMemorySegment(SPECIES, %s, %s, ORDER), %s);", tile.accumulator(row, k),
                value, slice, JavaWriter.offset(from, k, "VECTOR_BYTES"), tile.accumulator(row, k)));
    }

    /** The first row declares the temporaries that the next rows reuse. */
    private static String declared(int row, String type) {
        return row == 0 ? type + " " : "";
    }

    /** One line per accumulator, row by row, from its name and its index in c. */
    private static void eachAccumulator(JavaWriter java, Tile tile, BiFunction<String, String, String> line) {
        java.each(tile.rows, tile.vectors, (r, k) -> line.apply(tile.accumulator(r, k), tile.cIndex(r, k)));
    }
}
