package org.lacuna.bench.gpu;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;

/**
 * The host side of the sparse GEMM benchmark: random inputs, the weight in both forms it is timed in, and the few
 * rows of each that the spot check of the outputs needs.
 */
final class TwoFourGemmData {
    /** Output columns the spot check recomputes on the host: enough to catch a misplaced tile, cheap at any size. */
    static final int CHECKED_COLUMNS = 64;
    private static final int CHUNK = 1 << 20;

    private TwoFourGemmData() {
    }

    /**
     * One weight W[out, in] in {@code dtype}: dense and unpruned for cuBLAS (what a 2:4 layer replaces), and
     * magnitude-pruned and compressed for the 2:4 kernel; plus, for the spot check, the rows
     * {@code checkedColumns} of each as stored (rounded to {@code dtype}).
     */
    record Weight(int out, int in, DType dtype, short[] dense, TwoFourWeights twoFour, int[] checkedColumns,
                  float[][] denseRows, float[][] prunedRows) {
        long hostBytes() {
            return dense.length * 2L + twoFour.valuesByteSize() + twoFour.metadataByteSize();
        }

        MemorySegment denseSegment() {
            return MemorySegment.ofArray(dense);
        }

        /** What the 2:4 kernel reads of W: the kept half of the values and their 2-bit indices, padding included. */
        long storedTwoFourBytes() {
            return twoFour.valuesByteSize() + twoFour.metadataByteSize();
        }
    }

    static Weight weight(int out, int in, DType dtype) {
        float[] w = randomNonZero((long) out * in, seed("w", out, in));
        short[] dense = toHalves(w, dtype);
        float[] pruned = TwoFourPruning.prune(w, out, in);
        TwoFourWeights twoFour = TwoFourWeights.compress(pruned, out, in, dtype);
        int[] columns = checkedColumns(out);
        float[][] denseRows = new float[columns.length][];
        float[][] prunedRows = new float[columns.length][];
        for (int i = 0; i < columns.length; i++) {
            denseRows[i] = rounded(w, (long) columns[i] * in, in, dtype);
            prunedRows[i] = rounded(pruned, (long) columns[i] * in, in, dtype);
        }
        return new Weight(out, in, dtype, dense, twoFour, columns, denseRows, prunedRows);
    }

    /** X[tokens, in] as {@code dtype} bits: the values of {@link #randomNonZero}, with no float copy in between. */
    static short[] activations(int tokens, int in, DType dtype) {
        long count = (long) tokens * in;
        long seed = seed("x", tokens, in);
        short[] halves = new short[Math.toIntExact(count)];
        fill(count, seed, (i, v) -> halves[i] = dtype == DType.BF16 ? HalfFloats.toBf16(v) : HalfFloats.toF16(v));
        return halves;
    }

    /**
     * Magnitudes in [0.25, 1) with random signs: never zero, so no timing is flattered by trivial data, and dot
     * products over 16384 terms stay far inside fp16's range. Filled in fixed chunks, each from its own seed, so the
     * values do not depend on how many threads filled them.
     */
    static float[] randomNonZero(long count, long seed) {
        float[] values = new float[Math.toIntExact(count)];
        fill(count, seed, (i, v) -> values[i] = v);
        return values;
    }

    private interface Sink {
        void accept(int index, float value);
    }

    private static void fill(long count, long seed, Sink sink) {
        int chunks = (int) ((count + CHUNK - 1) / CHUNK);
        IntStream.range(0, chunks).parallel().forEach(chunk -> {
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + chunk);
            int end = (int) Math.min(count, (long) (chunk + 1) * CHUNK);
            for (int i = chunk * CHUNK; i < end; i++) {
                float magnitude = (float) random.nextDouble(0.25, 1.0);
                sink.accept(i, random.nextBoolean() ? magnitude : -magnitude);
            }
        });
    }

    static short[] toHalves(float[] values, DType dtype) {
        short[] halves = new short[values.length];
        IntStream.range(0, values.length).parallel().forEach(i -> halves[i] = dtype == DType.BF16
                ? HalfFloats.toBf16(values[i]) : HalfFloats.toF16(values[i]));
        return halves;
    }

    static float[] fromHalves(short[] halves, long offset, int length, DType dtype) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            short bits = halves[Math.toIntExact(offset + i)];
            values[i] = dtype == DType.BF16 ? HalfFloats.fromBf16(bits) : HalfFloats.fromF16(bits);
        }
        return values;
    }

    /** Evenly spread output columns, the first and last included. */
    static int[] checkedColumns(int out) {
        int count = Math.min(out, CHECKED_COLUMNS);
        int[] columns = new int[count];
        for (int i = 0; i < count; i++) {
            columns[i] = count == 1 ? 0 : (int) ((long) i * (out - 1) / (count - 1));
        }
        return columns;
    }

    /** Tokens the spot check reads back: first, middle, last. */
    static int[] checkedTokens(int tokens) {
        return IntStream.of(0, tokens / 2, tokens - 1).distinct().toArray();
    }

    private static float[] rounded(float[] w, long offset, int length, DType dtype) {
        float[] row = new float[length];
        for (int i = 0; i < length; i++) {
            row[i] = HalfFloats.roundTo(dtype, w[Math.toIntExact(offset + i)]);
        }
        return row;
    }

    private static long seed(String what, int a, int b) {
        return what.hashCode() * 31L * 31L + a * 31L + b;
    }

    /**
     * Compares the read-back entries y[token, column] with the host's dot products in double precision. The bound
     * allows the output's rounding (twice its worst case) and fp32 accumulation over {@code in} terms, tensor cores
     * that truncate included; a wrong tile, index or operand is off by at least one whole product, mostly by the size
     * of the value itself.
     *
     * @param yRows      y's rows {@code tokens}, each [out] as read back
     * @param xRows      x's rows {@code tokens}, as stored
     * @param weightRows W's rows {@code columns}, as stored
     * @return "ok" or a description of the worst mismatch
     */
    static String check(int[] tokens, float[][] yRows, float[][] xRows, int[] columns, float[][] weightRows,
                        DType dtype) {
        double unit = dtype == DType.BF16 ? 0x1p-8 : 0x1p-10;
        int bad = 0;
        String worst = null;
        double worstExcess = 0;
        for (int t = 0; t < tokens.length; t++) {
            for (int c = 0; c < columns.length; c++) {
                double expected = 0;
                double magnitude = 0;
                for (int k = 0; k < xRows[t].length; k++) {
                    double product = (double) xRows[t][k] * weightRows[c][k];
                    expected += product;
                    magnitude += Math.abs(product);
                }
                double actual = yRows[t][columns[c]];
                double bound = unit * Math.abs(expected) + 4e-5 * magnitude + 1e-6;
                double excess = Math.abs(actual - expected) / bound;
                if (!(excess <= 1)) {
                    bad++;
                    if (!(excess <= worstExcess)) {
                        worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
                        worst = String.format(Locale.ROOT, "y[%d, %d] = %.6g, expected %.6g", tokens[t], columns[c],
                                actual, expected);
                    }
                }
            }
        }
        int checked = tokens.length * columns.length;
        return bad == 0 ? "ok" : "MISMATCH in " + bad + " of " + checked + " values, worst " + worst;
    }

    /** A bounded least-recently-used cache: the sweep meets each layer's weight again at every token count. */
    static final class WeightCache {
        private final long budgetBytes;
        private final LinkedHashMap<String, Weight> entries = new LinkedHashMap<>(16, 0.75f, true);
        private long heldBytes;

        WeightCache(long budgetBytes) {
            this.budgetBytes = budgetBytes;
        }

        Weight get(int out, int in, DType dtype) {
            String key = out + "x" + in + "-" + dtype;
            Weight weight = entries.get(key);
            if (weight == null) {
                weight = weight(out, in, dtype);
                entries.put(key, weight);
                heldBytes += weight.hostBytes();
                var eldest = entries.entrySet().iterator();
                while (heldBytes > budgetBytes && entries.size() > 1) {
                    Map.Entry<String, Weight> entry = eldest.next();
                    heldBytes -= entry.getValue().hostBytes();
                    eldest.remove();
                }
            }
            return weight;
        }

        int size() {
            return entries.size();
        }
    }
}
