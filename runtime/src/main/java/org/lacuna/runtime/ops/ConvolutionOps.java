package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.sparseconv.ResidentKernelMap;

/**
 * Point-cloud sparse convolution. Every backend and every {@link Dataflow} computes
 * {@code y[o, :] = act(bias + Σ over the map's pairs (i, o, v) of x[i, :] · w[v])}; the dataflow only says how the
 * GPU gets there (the CPU reference ignores it). Batch norm is folded into w and bias beforehand
 * ({@link org.lacuna.runtime.sparseconv.BatchNormFolding}). Arguments are checked by {@link ConvolutionContracts}.
 */
public interface ConvolutionOps {
    /**
     * @param x       F32 or F16 [map.inputCount(), in]
     * @param map     the kernel map, from the input's {@link org.lacuna.runtime.sparseconv.CoordinateSet}
     * @param weights x's dtype, [map.volume(), in, out], offsets in {@link
     *                org.lacuna.runtime.sparseconv.ConvGeometry#offset} order
     * @param bias    F32 [out], or null
     * @param y       F32 or F16 [map.outputCount(), out]; every element is written
     */
    void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias, Activation activation,
                           Dataflow dataflow, DeviceArray y);

    /**
     * The keys of {@code set} (I64 [size], row order) in this backend's memory, cached on the set until it closes:
     * the host keys wrapped where the backend's memory is the host's (CPU), uploaded once otherwise (a set's
     * keys come up when the sparse tensor holding its features does, so a forward finds them there). A
     * downsampling's output keys are computed by the backend itself when it builds the strided map
     * ({@link #residentMap}), without a copy. Who frees keys made on a set nobody holds (the finer set a downsampled
     * set's keys are computed from, a map's output set) is {@link CoordinateSet}'s ownership rule.
     */
    DeviceArray coordinateKeys(CoordinateSet set);

    /**
     * The tables of {@code map} (submanifold, strided or transposed) in this backend's memory, cached on the map's
     * input set per geometry and freed when the set closes. The CPU backends hold views of the host map's arrays
     * (nothing is copied); the CUDA backend builds them with the map kernels from the sets' resident keys, sizing
     * them from the host map's counts, so nothing crosses the bus. The CUDA backend's {@link #sparseConvolution} reads
     * them; the CPU backends' reads the host map's arrays directly, the very memory their views show.
     */
    ResidentKernelMap residentMap(KernelMap map);

    /**
     * Hands {@code set} its keys as this backend computed them itself (a voxeliser's, {@link
     * VoxelizationOps#voxelizeResident}): I64 [size] in this backend's memory, in row order. They become the set's
     * resident keys ({@link #coordinateKeys}) without a copy, and the set owns them from now on; if the set holds
     * keys of this backend already, the offered ones are freed. The CPU backends' resident keys are the set's own
     * host keys, so they free the offered array and wrap those. Returns the keys the set holds. On a failed check the
     * offered keys are freed as well.
     */
    DeviceArray adoptCoordinateKeys(CoordinateSet set, DeviceArray keys);

    /**
     * Writes a set's keys ({@link #coordinateKeys}: I64 [n]) as I32 [n, 4] rows of (batch, x, y, z), as
     * {@link CoordinateSet#coordinates} gives them on the host: a layer's output gets its coordinates tensor from
     * the keys the backend holds, without an upload.
     */
    void unpackCoordinates(DeviceArray keys, DeviceArray coordinates);

    /**
     * The kernel map of a forward (submanifold or strided) geometry from {@code inputs} to {@code outputs}, built on
     * this backend: for each output row and offset the row of {@code inputs} at output + offset × dilation × the
     * inputs' tensor stride (or -1), the rows' bitmasks and the offset-major pair lists. The CUDA backend builds a
     * hash table of the input keys on the device, queries it and writes the pair lists there (deterministically),
     * then downloads them; the CPU backend answers with {@link CoordinateSet#queryNeighbours}, the reference. For
     * comparing builders: layers use {@link #residentMap}.
     */
    MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry);
}
