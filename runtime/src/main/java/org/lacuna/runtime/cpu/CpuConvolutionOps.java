package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.cpu.kernels.HalfConversions;
import org.lacuna.runtime.cpu.kernels.SparseConvKernel;
import org.lacuna.runtime.cpu.kernels.TileGemm;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ConvolutionContracts;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.sparseconv.BackendResidency;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.sparseconv.ResidentKernelMap;

/**
 * Point-cloud sparse convolution of the serving CPU backend: the weights widened to fp32 on first use and kept
 * ({@link WeightFormCache}), x read in place row by row as blocks gather it, then {@link SparseConvKernel} over blocks
 * of output rows sized from the map's statistics, the blocks spread over the backend's threads and each written
 * straight to y. A 1×1×1 convolution on its own coordinates is a plain dense GEMM ({@link CpuPointwiseConvolution})
 * where OpenBLAS is bound. The {@link Dataflow} is a GPU hint: the CPU's one blocked kernel spans both dataflows
 * through its block size, and its result is the same whatever the block size or the thread count.
 */
final class CpuConvolutionOps implements ConvolutionOps {
    private static final String CALL = "sparseConvolution";

    private final CpuContext context;
    private final TileGemm gemm;
    /** Weights and biases widened to fp32 on first use and kept while their buffers stay open and unchanged. */
    private final WeightFormCache weightForms = new WeightFormCache();
    private final WeightFormCache biasForms = new WeightFormCache();
    private volatile CpuPointwiseConvolution pointwiseConvolution;
    private volatile boolean pointwiseResolved;
    /** This backend's state on coordinate sets: the keys and maps are views, dropped from the sets when it closes. */
    private final BackendResidency residency = new BackendResidency(CpuBackendProvider.NAME);

    CpuConvolutionOps(CpuContext context) {
        this.context = context;
        this.gemm = context.vectorApi() ? vectorTileGemm() : TileGemm.SCALAR;
    }

    /** Kept apart so that the Vector API class loads only when it may run. */
    private static TileGemm vectorTileGemm() {
        return org.lacuna.runtime.cpu.kernels.VectorTileGemm.INSTANCE;
    }

    @Override
    public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                  Activation activation, Dataflow dataflow, DeviceArray y) {
        ConvolutionContracts.sparseConvolution(CpuBackendProvider.NAME, x, map, weights, bias, activation, dataflow,
                y);
        int in = Math.toIntExact(x.shape().dim(1));
        int out = Math.toIntExact(weights.shape().dim(2));
        // The host map's own pair lists are this backend's resident tables: read in place.
        MapTables pairs = map.sharedTables();
        int volume = map.volume();
        float[] w = weightForms.get(float[].class, out, volume * in, () -> widen(weights), weights);
        float[] b = bias == null ? null : biasForms.get(float[].class, out, 1, () -> widen(bias), bias);
        SparseConvKernel.Problem problem = new SparseConvKernel.Problem(readSegment(x), x.byteOffset(),
                x.dtype() == DType.F16, in, w, out, b,
                activation == Activation.RELU, volume, pairs.pairStart(), pairs.pairInputs(), pairs.pairOutputs());
        MemorySegment result = segment(y);
        if (volume == 1) {
            // Scanned for identity only where the dense path exists (OpenBLAS loaded).
            CpuPointwiseConvolution dense = pointwise();
            if (dense != null && CpuPointwiseConvolution.isIdentity(map)) {
                dense.run(problem.x(), x, in, w, out, b, activation, result, y);
                return;
            }
        }
        int rows = map.outputCount();
        double fraction = map.statistics().averageNeighbours() / volume;
        int blockRows = SparseConvKernel.blockRows(fraction, out, rows);
        context.threads().forEach(CpuThreads.chunks(rows, blockRows), blockIndex -> {
            int first = blockIndex * blockRows;
            int count = Math.min(blockRows, rows - first);
            float[] block = SparseConvKernel.block(problem, gemm, first, count);
            store(block, count * out, result, y, (long) first * out);
        });
    }

    @Override
    public DeviceArray coordinateKeys(CoordinateSet set) {
        return HostResidency.keys(residency, CpuBackendProvider.NAME, set);
    }

    @Override
    public DeviceArray adoptCoordinateKeys(CoordinateSet set, DeviceArray keys) {
        return HostResidency.adoptKeys(residency, CpuBackendProvider.NAME, set, keys);
    }

    @Override
    public ResidentKernelMap residentMap(KernelMap map) {
        return HostResidency.map(residency, CpuBackendProvider.NAME, map);
    }

    /**
     * The dense path of 1×1×1 convolutions, made on the first one: OpenBLAS is bound only when a layer needs it, and
     * without it (options off, or the library does not load) the fused kernel serves those layers too.
     */
    private CpuPointwiseConvolution pointwise() {
        if (!pointwiseResolved) {
            pointwiseConvolution = context.options().nativeBlas()
                    ? NativeBlasStatus.library().map(blas -> new CpuPointwiseConvolution(context, blas)).orElse(null)
                    : null;
            pointwiseResolved = true;
        }
        return pointwiseConvolution;
    }

    /** Weights widened and kept so far; a test checks a weight is widened once, not per call. */
    int cachedWeights() {
        return weightForms.size();
    }

    /** Drops this backend's state from every coordinate set and its widened weights (the backend closes). */
    void close() {
        residency.close();
        weightForms.clear();
        biasForms.clear();
    }

    @Override
    public void unpackCoordinates(DeviceArray keys, DeviceArray coordinates) {
        HostResidency.unpack(CpuBackendProvider.NAME, keys, coordinates);
    }

    @Override
    public MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
        ConvolutionContracts.buildMapTables(inputs, outputs, geometry);
        return CpuMapBuilder.build(context.threads(), inputs, outputs, geometry);
    }

    /** The array's elements as fp32, read in bulk (without moving its buffer's generation). */
    private static float[] widen(DeviceArray array) {
        long count = array.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException(CALL, "the CPU backend holds at most 2^31 elements per array, got "
                    + count);
        }
        MemorySegment segment = readSegment(array);
        float[] out = new float[(int) count];
        HalfConversions.widen(segment, array.byteOffset(), array.dtype(), out, 0, out.length);
        return out;
    }

    /** Writes {@code count} fp32 values to y from element {@code at}, rounded to y's type. */
    private static void store(float[] values, int count, MemorySegment segment, DeviceArray y, long at) {
        HalfConversions.narrow(values, 0, count, segment, y.byteOffset() + at * y.dtype().byteSize(), y.dtype());
    }

    /** The memory of an array the call writes. */
    private static MemorySegment segment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).segment(CALL);
    }

    /** The memory of an array the call only reads: its buffer's generation stays, so its cached forms stay valid. */
    private static MemorySegment readSegment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).readSegment(CALL);
    }
}
