package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The fused sparse convolution on plain arrays, one block of consecutive output rows at a time:
 * {@code y[o, :] = act(bias + Σ_v x[in(o, v), :] · w[v])}. For each kernel offset v in order, the block's pairs of v
 * (a contiguous run of the offset-major pair list, which is in output order) are gathered in chunks of at most
 * {@link #CHUNK} input rows into a contiguous fp32 tile and multiplied by w[v] with the {@link TileGemm}, which adds
 * each product row straight into its output's row of the block's fp32 accumulator (kept in cache, started from the
 * bias); ReLU is applied on the way out.
 *
 * <p>A small block is the output-stationary implicit GEMM (a tile of rows, its offsets one by one, no scatter
 * leaving the cache); a large one is gather-GEMM-scatter with cache-sized chunks. Which is better depends on how
 * many pairs an offset has per block (the tile GEMM wants tens of rows), so the caller sizes blocks from the map's
 * statistics. Every output element is one chain of fused multiply-adds from the bias, offset by offset in order and
 * over the input channels in order, so the result is the same for any block size, chunking or thread count.
 */
public final class SparseConvKernel {
    /** Input rows gathered per tile GEMM: with 384 input channels the tile is 192 KiB, the accumulator beside it. */
    public static final int CHUNK = 128;

    /**
     * One convolution's operands, row-major: x [inputs, in] where it lies (F32, or F16 when {@code halfX}), read
     * only for the rows a block gathers, so it is never copied whole; fp32 w [volume, in, out] and bias [out] (or
     * null); the pair lists of the kernel map, pairs of offset v at {@code [pairStart[v], pairStart[v + 1])} sorted
     * by output row.
     */
    public record Problem(MemorySegment x, long xByteOffset, boolean halfX, int in, float[] w, int out, float[] bias,
                          boolean relu, int volume, long[] pairStart, int[] pairInputs, int[] pairOutputs) {
        /** The same problem with x held in a float array, for callers (and tests) that have one. */
        public static Problem of(float[] x, int in, float[] w, int out, float[] bias, boolean relu, int volume,
                                 long[] pairStart, int[] pairInputs, int[] pairOutputs) {
            return new Problem(MemorySegment.ofArray(x), 0, false, in, w, out, bias, relu, volume, pairStart,
                    pairInputs, pairOutputs);
        }

        /** Input row {@code row} widened to fp32 into {@code tile} at {@code at}. */
        void gather(int row, float[] tile, int at) {
            long element = (long) row * in;
            if (halfX) {
                for (int c = 0; c < in; c++) {
                    tile[at + c] = Float.float16ToFloat(x.get(F16, xByteOffset + (element + c) * 2));
                }
            } else if (in >= BULK_COPY_FLOATS) {
                MemorySegment.copy(x, F32, xByteOffset + element * 4, tile, at, in);
            } else {
                for (int c = 0; c < in; c++) {
                    tile[at + c] = x.get(F32, xByteOffset + (element + c) * 4);
                }
            }
        }
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** Below this a bulk copy's fixed cost outweighs element reads. */
    private static final int BULK_COPY_FLOATS = 16;

    /** Per-thread scratch, grown on demand. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private SparseConvKernel() {
    }

    /**
     * Computes output rows {@code [first, first + rows)} into {@code result[0 .. rows × out)}, returned: a per-thread
     * buffer, valid until this thread's next call.
     */
    public static float[] block(Problem p, TileGemm gemm, int first, int rows) {
        int in = p.in();
        int out = p.out();
        Scratch scratch = SCRATCH.get();
        float[] tile = scratch.tile(CHUNK * in);
        int[] targets = scratch.targets;
        float[] acc = scratch.accumulator(rows * out);
        float[] bias = p.bias();
        for (int r = 0; r < rows; r++) {
            if (bias != null) {
                System.arraycopy(bias, 0, acc, r * out, out);
            } else {
                java.util.Arrays.fill(acc, r * out, (r + 1) * out, 0f);
            }
        }
        int end = first + rows;
        int[] inputs = p.pairInputs();
        int[] outputs = p.pairOutputs();
        for (int v = 0; v < p.volume(); v++) {
            int from = lowerBound(outputs, (int) p.pairStart()[v], (int) p.pairStart()[v + 1], first);
            int to = lowerBound(outputs, from, (int) p.pairStart()[v + 1], end);
            int weights = v * in * out;
            for (int chunk = from; chunk < to; chunk += CHUNK) {
                int m = Math.min(CHUNK, to - chunk);
                for (int i = 0; i < m; i++) {
                    p.gather(inputs[chunk + i], tile, i * in);
                    targets[i] = (outputs[chunk + i] - first) * out;
                }
                gemm.accumulate(m, out, in, tile, in, p.w(), weights, out, acc, targets);
            }
        }
        if (p.relu()) {
            for (int i = 0; i < rows * out; i++) {
                // max(0, NaN) must stay NaN, as the reference's Math.max does.
                acc[i] = Math.max(acc[i], 0f);
            }
        }
        return acc;
    }

    /** One thread's buffers: the gathered tile, its rows' places in the accumulator, and the block accumulator. */
    private static final class Scratch {
        final int[] targets = new int[CHUNK];
        private float[] tile = new float[0];
        private float[] accumulator = new float[0];

        float[] tile(int size) {
            if (tile.length < size) {
                tile = new float[size];
            }
            return tile;
        }

        float[] accumulator(int size) {
            if (accumulator.length < size) {
                accumulator = new float[size];
            }
            return accumulator;
        }
    }

    /** Output rows per block for a map whose offsets reach {@code fraction} of the rows on average. */
    public static int blockRows(double fraction, int out, int rows) {
        // Enough rows that an average offset fills a chunk, as few as keep the accumulator within 256 KiB of L2.
        long wanted = (long) Math.ceil(CHUNK / Math.max(fraction, 1e-3));
        long cap = Math.max(MIN_BLOCK, (256 * 1024) / (4L * out));
        long chosen = Math.min(Math.max(wanted, MIN_BLOCK), cap);
        // Split small maps into at least a few blocks, so that they still spread over the threads.
        chosen = Math.min(chosen, Math.max(MIN_BLOCK, rows / 8));
        return (int) ((chosen + 15) / 16 * 16);
    }

    private static final int MIN_BLOCK = 32;

    /** The first index in {@code [from, to)} whose value is at least {@code key} ({@code to} if none). */
    static int lowerBound(int[] sorted, int from, int to, int key) {
        int lo = from;
        int hi = to;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
