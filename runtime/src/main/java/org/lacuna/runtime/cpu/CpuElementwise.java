package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.lacuna.runtime.cpu.kernels.RowKernels;
import org.lacuna.runtime.cpu.kernels.VectorRowKernels;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.OpContracts;
import org.lacuna.runtime.ops.RowReduction;

/**
 * Bias + activation, casts and row reductions of the serving CPU backend, in fp32: each row is widened block by
 * block into a float[], computed on, and narrowed back (rounded to nearest even). Rows are split into chunks of a
 * fixed size that does not depend on the thread count, and every row is reduced by one thread in one fixed order,
 * so results are the same bit for bit with 1 or N threads. The Vector API kernels serve where the JVM allows them,
 * plain Java otherwise.
 */
final class CpuElementwise {
    /** Elements widened at a time: a multiple of every vector width, small enough to stay in L1. */
    static final int BLOCK = 1024;
    /** Elements per parallel chunk; smaller ops run on the calling thread, where a hand-off would cost more. */
    static final long CHUNK_ELEMENTS = 1 << 15;

    private final CpuContext context;
    private final RowKernels kernels;
    private final long chunkElements;

    CpuElementwise(CpuContext context) {
        this(context, CHUNK_ELEMENTS);
    }

    /** With chunks of {@code chunkElements}: tests use tiny chunks so that small shapes split too. */
    CpuElementwise(CpuContext context, long chunkElements) {
        this.context = context;
        this.kernels = context.vectorApi() ? VectorRowKernels.create() : RowKernels.scalar();
        this.chunkElements = chunkElements;
    }

    void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        String call = "biasActivation";
        OpContracts.biasActivation(CpuBackendProvider.NAME, x, bias, activation, y);
        MemorySegment in = segment(x, call);
        MemorySegment out = segment(y, call);
        int cols = Math.toIntExact(x.shape().columns());
        float[] b = null;
        if (bias != null) {
            b = new float[cols];
            kernels.widen(segment(bias, call), bias.byteOffset(), DType.F32, b, cols);
        }
        float[] biases = b;
        forEachRowChunk(x.shape().rows(), cols, (first, end) -> {
            float[] block = new float[Math.min(BLOCK, cols)];
            for (long row = first; row < end; row++) {
                for (int c = 0; c < cols; c += BLOCK) {
                    int n = Math.min(BLOCK, cols - c);
                    long index = row * cols + c;
                    kernels.widen(in, byteAt(x, index), x.dtype(), block, n);
                    kernels.biasActivation(block, n, biases, c, activation);
                    kernels.narrow(block, n, out, byteAt(y, index), y.dtype());
                }
            }
        });
    }

    void cast(DeviceArray x, DeviceArray y) {
        String call = "cast";
        OpContracts.cast(CpuBackendProvider.NAME, x, y);
        MemorySegment in = segment(x, call);
        MemorySegment out = segment(y, call);
        long count = x.elementCount();
        int chunks = CpuThreads.chunks(count, chunkElements);
        context.threads().forEach(chunks, chunk -> {
            long first = chunk * chunkElements;
            long end = Math.min(count, first + chunkElements);
            float[] block = new float[(int) Math.min(BLOCK, end - first)];
            for (long i = first; i < end; i += BLOCK) {
                int n = (int) Math.min(BLOCK, end - i);
                kernels.widen(in, byteAt(x, i), x.dtype(), block, n);
                kernels.narrow(block, n, out, byteAt(y, i), y.dtype());
            }
        });
    }

    void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        String call = "rowReduce";
        OpContracts.rowReduce(CpuBackendProvider.NAME, x, reduction, out);
        MemorySegment in = segment(x, call);
        MemorySegment result = segment(out, call);
        int cols = Math.toIntExact(x.shape().columns());
        forEachRowChunk(x.shape().rows(), cols, (first, end) -> {
            float[] block = new float[Math.min(BLOCK, cols)];
            float[] partials = new float[kernels.partials()];
            float[] values = new float[Math.toIntExact(end - first)];
            for (long row = first; row < end; row++) {
                Arrays.fill(partials, RowKernels.identity(reduction));
                for (int c = 0; c < cols; c += BLOCK) {
                    int n = Math.min(BLOCK, cols - c);
                    kernels.widen(in, byteAt(x, row * cols + c), x.dtype(), block, n);
                    kernels.accumulate(block, n, reduction, partials);
                }
                values[(int) (row - first)] = RowKernels.finish(partials, reduction);
            }
            kernels.narrow(values, values.length, result, byteAt(out, first), DType.F32);
        });
    }

    /** A range of rows [first, end) of one chunk. */
    @FunctionalInterface
    private interface RowRange {
        void run(long first, long end);
    }

    /** Splits rows into chunks of about {@code chunkElements} elements, whatever the thread count. */
    private void forEachRowChunk(long rows, int cols, RowRange body) {
        long rowsPerChunk = Math.max(1, chunkElements / Math.max(1, cols));
        int chunks = CpuThreads.chunks(rows, rowsPerChunk);
        context.threads().forEach(chunks, chunk -> {
            long first = chunk * rowsPerChunk;
            body.run(first, Math.min(rows, first + rowsPerChunk));
        });
    }

    private static long byteAt(DeviceArray array, long index) {
        return array.byteOffset() + index * array.dtype().byteSize();
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}
