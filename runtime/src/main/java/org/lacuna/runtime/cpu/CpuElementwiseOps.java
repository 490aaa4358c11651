package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.cpu.kernels.RowKernels;
import org.lacuna.runtime.cpu.kernels.RowMath;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseContracts;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;

/**
 * The elementwise and normalisation ops of the serving CPU backend, in fp32: each row is widened block by
 * block into a float[], computed on, and narrowed back (rounded to nearest even). Rows are split into chunks of a
 * fixed size that does not depend on the thread count, and every row is reduced by one thread in one fixed order,
 * so results are the same bit for bit with 1 or N threads. The Vector API kernels serve where the JVM allows them,
 * plain Java otherwise.
 */
final class CpuElementwiseOps implements ElementwiseOps {
    /** Elements widened at a time: a multiple of every vector width, small enough to stay in L1. */
    static final int BLOCK = 1024;
    /** Elements per parallel chunk; smaller ops run on the calling thread, where a hand-off would cost more. */
    static final long CHUNK_ELEMENTS = 1 << 15;

    /** Rows a chunk of layer norm. */
    private static final int NORM_ROWS_PER_CHUNK = 64;
    /** Elements a chunk of add. */
    private static final int ADD_ELEMENTS_PER_CHUNK = 1 << 14;

    private final CpuContext context;
    private final RowKernels kernels;
    private final RowMath rowMath;
    private final long chunkElements;

    CpuElementwiseOps(CpuContext context) {
        this(context, CHUNK_ELEMENTS);
    }

    /** With chunks of {@code chunkElements}: tests use tiny chunks so that small shapes split too. */
    CpuElementwiseOps(CpuContext context, long chunkElements) {
        this.context = context;
        this.kernels = RowKernels.of(context.vectorApi());
        this.rowMath = RowMath.of(context.vectorApi());
        this.chunkElements = chunkElements;
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        String call = "biasActivation";
        ElementwiseContracts.biasActivation(CpuBackendProvider.NAME, x, bias, activation, y);
        float[] biases = bias == null ? null : columnVector(bias, x, call);
        mapRowBlocks(x, y, call, (block, n, column) -> kernels.biasActivation(block, n, biases, column, activation));
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        String call = "cast";
        ElementwiseContracts.cast(CpuBackendProvider.NAME, x, y);
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

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        String call = "rowReduce";
        ElementwiseContracts.rowReduce(CpuBackendProvider.NAME, x, reduction, out);
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

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        ElementwiseContracts.layerNorm(CpuBackendProvider.NAME, x, gamma, beta, epsilon, y);
        normaliseRows("layerNorm", x, null, gamma, beta, epsilon, y);
    }

    /**
     * One pass over the activations instead of add's and then layer norm's: each row of x and of the residual is
     * widened into L1, summed with add's own arithmetic and normalised with layer norm's, so for F32 the bits are
     * those of {@link #add} then {@link #layerNorm}; for F16/BF16 the fp32 sum is not rounded to the storage type
     * before the norm (closer to the reference than the two ops).
     */
    @Override
    public void residualLayerNorm(DeviceArray x, DeviceArray residual, DeviceArray gamma, DeviceArray beta,
                                  double epsilon, DeviceArray y) {
        ElementwiseContracts.residualLayerNorm(CpuBackendProvider.NAME, x, residual, gamma, beta, epsilon, y);
        normaliseRows("residualLayerNorm", x, residual, gamma, beta, epsilon, y);
    }

    /** Layer norm of each row of x, or of x + residual where residual is not null; y may be x or residual. */
    private void normaliseRows(String call, DeviceArray x, DeviceArray residual, DeviceArray gamma, DeviceArray beta,
                               double epsilon, DeviceArray y) {
        MemorySegment in = segment(x, call);
        MemorySegment added = residual == null ? null : segment(residual, call);
        MemorySegment outSegment = segment(y, call);
        float[] g = CpuTokenSelection.readFloats(gamma, call);
        float[] b = beta == null ? null : CpuTokenSelection.readFloats(beta, call);
        int cols = Math.toIntExact(x.shape().columns());
        long rows = x.elementCount() / cols;
        float eps = (float) epsilon;
        context.threads().forEach(CpuThreads.chunks(rows, NORM_ROWS_PER_CHUNK), chunk -> {
            float[] row = new float[cols];
            float[] other = residual == null ? null : new float[cols];
            float[] normalised = new float[cols];
            long end = Math.min(rows, (chunk + 1L) * NORM_ROWS_PER_CHUNK);
            for (long r = (long) chunk * NORM_ROWS_PER_CHUNK; r < end; r++) {
                kernels.widen(in, byteAt(x, r * cols), x.dtype(), row, cols);
                if (residual != null) {
                    kernels.widen(added, byteAt(residual, r * cols), residual.dtype(), other, cols);
                    kernels.biasActivation(row, cols, other, 0, Activation.NONE); // row += other, as add does
                }
                float mean = rowMath.sum(row, cols) / cols;
                float variance = rowMath.squaredDeviations(row, cols, mean) / cols;
                float rstd = (float) (1.0 / Math.sqrt(variance + eps));
                rowMath.normalise(row, cols, mean, rstd, g, b, normalised);
                kernels.narrow(normalised, cols, outSegment, byteAt(y, r * cols), y.dtype());
            }
        });
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.add(CpuBackendProvider.NAME, a, b, y);
        String call = "add";
        MemorySegment left = segment(a, call);
        MemorySegment right = segment(b, call);
        MemorySegment out = segment(y, call);
        long count = a.elementCount();
        context.threads().forEach(CpuThreads.chunks(count, ADD_ELEMENTS_PER_CHUNK), chunk -> {
            long chunkStart = (long) chunk * ADD_ELEMENTS_PER_CHUNK;
            long chunkEnd = Math.min(count, chunkStart + ADD_ELEMENTS_PER_CHUNK);
            // Blocks that stay in L1 from widening to narrowing (a chunk-sized pair of arrays cost more to allocate
            // and zero than the add itself).
            float[] x = new float[(int) Math.min(BLOCK, chunkEnd - chunkStart)];
            float[] z = new float[x.length];
            for (long first = chunkStart; first < chunkEnd; first += BLOCK) {
                int n = (int) Math.min(BLOCK, chunkEnd - first);
                kernels.widen(left, a.byteOffset() + first * a.dtype().byteSize(), a.dtype(), x, n);
                kernels.widen(right, b.byteOffset() + first * b.dtype().byteSize(), b.dtype(), z, n);
                kernels.biasActivation(x, n, z, 0, Activation.NONE); // x += z, the elementwise ops' own add
                kernels.narrow(x, n, out, y.byteOffset() + first * y.dtype().byteSize(), y.dtype());
            }
        });
    }

    @Override
    public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
        String call = "batchNorm";
        ElementwiseContracts.batchNorm(CpuBackendProvider.NAME, x, scale, shift, y);
        float[] s = columnVector(scale, x, call);
        float[] t = columnVector(shift, x, call);
        mapRowBlocks(x, y, call, (block, n, column) -> {
            for (int i = 0; i < n; i++) {
                block[i] = Math.fma(block[i], s[column + i], t[column + i]);
            }
        });
    }

    @Override
    public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.concatColumns(CpuBackendProvider.NAME, a, b, y);
        ColumnConcat rows = new ColumnConcat(a, b, y);
        forEachRowChunk(y.shape().dim(0), Math.toIntExact(y.shape().dim(1)), rows::copy);
    }

    /** One per-column fp32 vector (a bias, a scale, a shift) of {@code x}'s width, read once per call. */
    private float[] columnVector(DeviceArray vector, DeviceArray x, String call) {
        int cols = Math.toIntExact(x.shape().columns());
        float[] values = new float[cols];
        kernels.widen(segment(vector, call), vector.byteOffset(), DType.F32, values, cols);
        return values;
    }

    /** The work on one widened block: {@code n} elements of a row from column {@code column}, updated in place. */
    @FunctionalInterface
    private interface BlockMap {
        void apply(float[] block, int n, int column);
    }

    /**
     * y = f(x) row by row, block by block: each block of a row is widened, mapped in place and narrowed back, so an
     * element's result depends on its row and column alone.
     */
    private void mapRowBlocks(DeviceArray x, DeviceArray y, String call, BlockMap map) {
        MemorySegment in = segment(x, call);
        MemorySegment out = segment(y, call);
        int cols = Math.toIntExact(x.shape().columns());
        forEachRowChunk(x.shape().rows(), cols, (first, end) -> {
            float[] block = new float[Math.min(BLOCK, cols)];
            for (long row = first; row < end; row++) {
                for (int c = 0; c < cols; c += BLOCK) {
                    int n = Math.min(BLOCK, cols - c);
                    long index = row * cols + c;
                    kernels.widen(in, byteAt(x, index), x.dtype(), block, n);
                    map.apply(block, n, c);
                    kernels.narrow(block, n, out, byteAt(y, index), y.dtype());
                }
            }
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
