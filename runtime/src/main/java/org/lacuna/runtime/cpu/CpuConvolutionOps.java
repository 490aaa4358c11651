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
 * Point-cloud sparse convolution of the serving CPU backend: the weights widened to fp32 once per call, x read in
 * place row by row as blocks gather it, then {@link SparseConvKernel} over blocks of output rows sized from the map's statistics, the blocks spread over the
 * backend's threads and each written straight to y. The {@link Dataflow} is a GPU hint: the CPU's one blocked
 * kernel spans both dataflows through its block size, and its result is the same whatever the block size or the
 * thread count.
 */
final class CpuConvolutionOps implements ConvolutionOps {
    private static final String CALL = "sparseConvolution";

    private final CpuContext context;
    private final TileGemm gemm;
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
        SparseConvKernel.Problem problem = new SparseConvKernel.Problem(segment(x), x.byteOffset(),
                x.dtype() == DType.F16, in, widen(weights), out, bias == null ? null : widen(bias),
                activation == Activation.RELU, map.volume(), pairs.pairStart(), pairs.pairInputs(), pairs.pairOutputs());
        int rows = map.outputCount();
        double fraction = map.statistics().averageNeighbours() / map.volume();
        int blockRows = SparseConvKernel.blockRows(fraction, out, rows);
        MemorySegment result = segment(y);
        context.threads().forEach(CpuThreads.chunks(rows, blockRows), b -> {
            int first = b * blockRows;
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

    /** Drops this backend's state from every coordinate set (the backend closes). */
    void close() {
        residency.close();
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

    /** The array's elements as fp32, read in bulk. */
    private static float[] widen(DeviceArray array) {
        long count = array.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException(CALL, "the CPU backend holds at most 2^31 elements per array, got "
                    + count);
        }
        MemorySegment segment = segment(array);
        float[] out = new float[(int) count];
        HalfConversions.widen(segment, array.byteOffset(), array.dtype(), out, 0, out.length);
        return out;
    }

    /** Writes {@code count} fp32 values to y from element {@code at}, rounded to y's type. */
    private static void store(float[] values, int count, MemorySegment segment, DeviceArray y, long at) {
        HalfConversions.narrow(values, 0, count, segment, y.byteOffset() + at * y.dtype().byteSize(), y.dtype());
    }

    private static MemorySegment segment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).segment(CALL);
    }
}
