package org.lacuna.codegen;

import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * The attention tile math's register tiles ({@code org.lacuna.runtime.cpu.kernels.VectorAttentionTiles}, the base
 * class of {@code VectorAttentionTileMath}, which owns everything else): a few query rows by a few vectors, each
 * accumulator a named local so that C2 keeps it in a register. Both products share one body: per step of the index
 * they sum over, load the vectors once, then per row broadcast that row's element and multiply it into the row's
 * accumulators ({@code a0..}, {@code b0..}, one letter a row).
 *
 * <p>Q·Kᵀ ({@code scores}) zeroes its accumulators, sums over the head dim and broadcasts {@link #SCORE_ROWS} query
 * elements against {@link #SCORE_VECTORS} vectors of transposed keys; P·V ({@code accumulate<rows>x<vectors>}) adds
 * into the output rows, sums over the keys and broadcasts probabilities against vectors of values, in the shapes of
 * {@link #ACCUMULATE_TILES}.
 */
final class VectorAttentionTiles extends GeneratedClass {
    /** The accumulators' name of each query row of a tile. */
    private static final String ROW_NAMES = "abcdefgh";
    /** Query rows a scores tile spans, and the rows of the smallest tile: {@code AttentionTileMath.ROW_GROUP}. */
    private static final int SCORE_ROWS = 4;
    /** Vectors of keys a scores tile spans. */
    private static final int SCORE_VECTORS = 4;
    /**
     * The P·V tiles, {rows, vectors of the head dim}: four by four where the head dim has four vectors to give;
     * eight by two for the two vectors four leave (all of head dim 32 on 512 bits), where four rows by two vectors
     * spent six loads (two of values, four broadcasts) on eight multiply-adds and eight rows spend ten on sixteen
     * (19 against 25 µs for a 3-head chunk of P·V at seq 128, measured by hand); four by two for a last row group.
     */
    private static final int[][] ACCUMULATE_TILES = {{4, 4}, {8, 2}, {4, 2}};

    VectorAttentionTiles() {
        super("org.lacuna.runtime.cpu.kernels");
    }

    @Override
    String source() {
        String vectorMath = "static " + packageName() + ".VectorAttentionTileMath.";
        JavaWriter java = new JavaWriter(packageName(), getClass(), "jdk.incubator.vector.FloatVector",
                vectorMath + "LANES", vectorMath + "SPECIES");
        java.line("/** The unrolled register tiles of {@link VectorAttentionTileMath}, which extends this class. */");
        java.open("abstract class VectorAttentionTiles implements AttentionTileMath");
        java.line("/** Query rows a scores tile: {@link #ROW_GROUP} must be this. */");
        java.line("static final int ROWS = %d;", SCORE_ROWS);
        java.blank();
        scores(java);
        for (int[] tile : ACCUMULATE_TILES) {
            java.blank();
            accumulate(java, tile[0], tile[1]);
        }
        java.close();
        return java.toString();
    }

    /**
     * The whole of {@code scores}, an instance method as the interface's: its loops over the tiles stay with the tile,
     * so C2 compiles one body as it did the hand-written one (the same body as a static method measured 1-4% slower).
     */
    private static void scores(JavaWriter java) {
        java.line("/** Q·Kᵀ in tiles of %d rows by %d vectors of keys. */", SCORE_ROWS, SCORE_VECTORS);
        java.line("@Override");
        java.open("public void scores(float[] q, int qOffset, float[] kt, int rows, int dim, float[] s)");
        java.open("for (int i = 0; i < rows; i += ROW_GROUP)");
        java.line("int q0 = qOffset + i * dim;");
        java.open("for (int j = 0; j < KEYS; j += %d * LANES)", SCORE_VECTORS);
        java.each(SCORE_ROWS, SCORE_VECTORS, (r, k) -> r + k == 0 ? "FloatVector a0 = FloatVector.zero(SPECIES);"
                : "FloatVector " + accumulator(r, k) + " = a0;");
        products(java, SCORE_ROWS, SCORE_VECTORS, new Sum("for (int d = 0; d < dim; d++)", "k", "d * KEYS + j", "kt",
                "k", r -> "q[" + JavaWriter.offset("q0", r, "dim") + " + d]"));
        java.line("int s0 = i * KEYS + j;");
        eachAccumulator(java, SCORE_ROWS, SCORE_VECTORS, "s0", "KEYS", (a, at) -> a + ".intoArray(s, " + at + ");");
        java.close();
        java.close();
        java.close();
    }

    private static void accumulate(JavaWriter java, int rows, int vectors) {
        java.line("/** %d rows by %d vectors of the head dimension from {@code d}: %d chains, %d broadcasts a key. */",
                rows, vectors, rows * vectors, rows);
        java.open("static void accumulate%dx%d(float[] p, int p0, float[] v, int dim, int d, float[] o, int o0)", rows,
                vectors);
        eachAccumulator(java, rows, vectors, "o0", "dim",
                (a, at) -> "FloatVector " + a + " = FloatVector.fromArray(SPECIES, o, " + at + ");");
        products(java, rows, vectors, new Sum("for (int j = 0; j < KEYS; j++)", "at", "j * dim + d", "v", "v",
                r -> "p[" + JavaWriter.offset("p0", r, "KEYS") + " + j]"));
        eachAccumulator(java, rows, vectors, "o0", "dim", (a, at) -> a + ".intoArray(o, " + at + ");");
        java.close();
    }

    /**
     * The loop of a product over the index it sums: each step's vectors of {@code array} start at {@code start}
     * ({@code = startValue}) and are loaded once into {@code loaded0..}; row r broadcasts {@code element(r)}.
     */
    private record Sum(String loop, String start, String startValue, String array, String loaded,
                       IntFunction<String> element) {
    }

    /** One step of the sum: the loads, then per row one broadcast and its FMAs into the row's accumulators. */
    private static void products(JavaWriter java, int rows, int vectors, Sum sum) {
        java.open(sum.loop);
        java.line("int %s = %s;", sum.start, sum.startValue);
        java.each(vectors, k -> JavaWriter.format("FloatVector %s%d = FloatVector.fromArray(SPECIES, %s, %s);", sum.loaded,
                k, sum.array, JavaWriter.offset(sum.start, k, "LANES")));
        for (int r = 0; r < rows; r++) {
            int row = r;
            java.line("%sx = FloatVector.broadcast(SPECIES, %s);", row == 0 ? "FloatVector " : "",
                    sum.element.apply(row));
            java.each(vectors, k -> JavaWriter.format("%s = %s%d.fma(x, %s);", accumulator(row, k), sum.loaded, k,
                    accumulator(row, k)));
        }
        java.close();
    }

    /**
     * One line per accumulator, row by row, from its name and its index: row r starts {@code r} row strides from
     * {@code base}, its k-th vector k vectors on.
     */
    private static void eachAccumulator(JavaWriter java, int rows, int vectors, String base, String rowStride,
                                        BiFunction<String, String, String> line) {
        java.each(rows, vectors, (r, k) -> line.apply(accumulator(r, k),
                JavaWriter.offset(JavaWriter.offset(base, r, rowStride), k, "LANES")));
    }

    private static String accumulator(int row, int k) {
        return ROW_NAMES.charAt(row) + String.valueOf(k);
    }
}
