package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.lacuna.runtime.DType;
import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.ErrorCode;
import org.lacuna.runtime.HalfFloats;
import org.lacuna.runtime.LacunaException;
import org.lacuna.runtime.cpu.kernels.Epilogue;
import org.lacuna.runtime.cpu.kernels.Sgemm;
import org.lacuna.runtime.internal.cpublas.OpenBlas;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.OpContracts;

/**
 * {@code y = act(x · wᵀ + b)} with a dense weight on the serving CPU backend. x and w are widened to fp32 once into
 * pooled staging arrays; the output is cut into tiles of {@link #ROW_BLOCK} × {@link #COL_BLOCK} (fixed, so the GEMM
 * calls and their results do not depend on the thread count), each tile a GEMM over all of {@code in} followed by
 * the bias, the activation and the rounding to y's dtype while it is in cache. The GEMM is OpenBLAS's (one thread
 * per call, see {@link OpenBlas}) or the Java {@link Sgemm}, chosen per backend by {@link GemmPath#choose}.
 */
final class CpuDenseLinear {
    /** Tile rows: a multiple of the Java kernel's 6-row register tile. */
    static final int ROW_BLOCK = 192;
    /** Tile columns: a multiple of the Java kernel's 16- and 32-column register tiles. */
    static final int COL_BLOCK = 256;
    /** Rows widened per chunk: enough work to outweigh handing a chunk to a thread. */
    private static final int WIDEN_ROWS = 256;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final CpuContext context;
    private final GemmPath path;
    private final OpenBlas blas;
    private final FloatArrayPool staging = new FloatArrayPool();
    private final ThreadLocal<float[]> tiles = ThreadLocal.withInitial(() -> new float[ROW_BLOCK * COL_BLOCK]);

    /** Which GEMM serves the dense linear. */
    enum GemmPath {
        NATIVE_BLAS, JAVA;

        /** OpenBLAS when the options allow it and it loaded, else the Java GEMM. */
        static GemmPath choose(CpuOptions options, Optional<OpenBlas> library) {
            return options.nativeBlas() && library.isPresent() ? NATIVE_BLAS : JAVA;
        }
    }

    CpuDenseLinear(CpuContext context) {
        this(context, GemmPath.choose(context.options(), context.options().nativeBlas()
                ? NativeBlasStatus.library() : Optional.empty()));
    }

    /** With the GEMM path forced, for tests and schedulers that compare paths. */
    CpuDenseLinear(CpuContext context, GemmPath path) {
        this.context = context;
        this.path = path;
        this.blas = path == GemmPath.NATIVE_BLAS ? NativeBlasStatus.library().orElseThrow(() -> new LacunaException(
                ErrorCode.INTERNAL, "CpuDenseLinear", NativeBlasStatus.describe(context.options()), null)) : null;
    }

    GemmPath path() {
        return path;
    }

    void linear(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        OpContracts.linearDense(CpuBackendProvider.NAME, x, w, bias, activation, y);
        int tokens = Math.toIntExact(x.shape().rows());
        int out = Math.toIntExact(w.shape().dim(0));
        int in = Math.toIntExact(w.shape().dim(1));
        if (tokens == 0 || out == 0) {
            return;
        }
        float[] xs = staging.borrow(Math.multiplyExact(tokens, in));
        float[] ws = staging.borrow(Math.multiplyExact(out, in));
        try {
            widen(x, tokens, in, xs);
            widen(w, out, in, ws);
            float[] b = bias == null ? null : readBias(bias, out);
            MemorySegment output = segment(y);
            int rowChunks = CpuThreads.chunks(tokens, ROW_BLOCK);
            // Column blocks outermost: neighbouring chunks, which mostly run on one thread, share a panel of w.
            context.threads().forEach(rowChunks * CpuThreads.chunks(out, COL_BLOCK), chunk -> {
                int row = chunk % rowChunks * ROW_BLOCK;
                int col = chunk / rowChunks * COL_BLOCK;
                int rows = Math.min(ROW_BLOCK, tokens - row);
                int cols = Math.min(COL_BLOCK, out - col);
                float[] tile = tiles.get();
                gemm(rows, cols, in, xs, row * in, ws, col * in, tile);
                Epilogue.biasActivation(context.vectorApi(), tile, 0, cols, rows, cols, b, col, activation);
                store(tile, rows, cols, output, y, (long) row * out + col, out);
            });
        } finally {
            staging.release(ws);
            staging.release(xs);
        }
    }

    /** tile[rows × cols] = x[rows × in] · w[cols × in]ᵀ. */
    private void gemm(int rows, int cols, int in, float[] xs, int xOffset, float[] ws, int wOffset, float[] tile) {
        if (path == GemmPath.NATIVE_BLAS) {
            blas.sgemm(rows, cols, in, xs, xOffset, in, ws, wOffset, in, true, tile, 0, cols, false);
        } else {
            Sgemm.multiply(context.vectorApi(), rows, cols, in, xs, xOffset, in, ws, wOffset, in, true, tile, 0, cols,
                    false);
        }
    }

    /** Reads a [rows × cols] matrix of any float dtype into fp32, rows split over the worker threads. */
    private void widen(DeviceArray array, int rows, int cols, float[] into) {
        MemorySegment source = segment(array);
        long base = array.byteOffset();
        DType dtype = array.dtype();
        context.threads().forEach(CpuThreads.chunks(rows, WIDEN_ROWS), chunk -> {
            int from = chunk * WIDEN_ROWS * cols;
            int to = Math.min(rows, (chunk + 1) * WIDEN_ROWS) * cols;
            switch (dtype) {
                case F32 -> MemorySegment.copy(source, F32, base + (long) from * 4, into, from, to - from);
                case F16 -> {
                    for (int i = from; i < to; i++) {
                        into[i] = HalfFloats.fromF16(source.get(U16, base + (long) i * 2));
                    }
                }
                case BF16 -> {
                    for (int i = from; i < to; i++) {
                        into[i] = HalfFloats.fromBf16(source.get(U16, base + (long) i * 2));
                    }
                }
                default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
            }
        });
    }

    private static float[] readBias(DeviceArray bias, int out) {
        float[] values = new float[out];
        MemorySegment.copy(segment(bias), F32, bias.byteOffset(), values, 0, out);
        return values;
    }

    /** Writes tile[rows × cols] to y at element {@code start}, rows {@code ld} apart, rounded to y's dtype. */
    private static void store(float[] tile, int rows, int cols, MemorySegment output, DeviceArray y, long start, int ld) {
        long base = y.byteOffset();
        for (int r = 0; r < rows; r++) {
            long element = start + (long) r * ld;
            int from = r * cols;
            switch (y.dtype()) {
                case F32 -> MemorySegment.copy(tile, from, output, F32, base + element * 4, cols);
                case F16 -> {
                    for (int j = 0; j < cols; j++) {
                        output.set(U16, base + (element + j) * 2, HalfFloats.toF16(tile[from + j]));
                    }
                }
                case BF16 -> {
                    for (int j = 0; j < cols; j++) {
                        output.set(U16, base + (element + j) * 2, HalfFloats.toBf16(tile[from + j]));
                    }
                }
                default -> throw new IllegalArgumentException(y.dtype() + " is not a floating-point type");
            }
        }
    }

    private static MemorySegment segment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).segment("linearDense");
    }
}
