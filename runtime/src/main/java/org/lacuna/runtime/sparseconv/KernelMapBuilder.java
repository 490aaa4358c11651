package org.lacuna.runtime.sparseconv;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.CoordinateKey;

/**
 * Builds kernel maps on the host: what {@link CoordinateSet#kernelMap} caches (the host description every backend
 * sizes and schedules by, and the tables the CPU backends read in place), and the reference the GPU map builder is
 * checked against. Strided output coordinates are the inputs floored to the coarser stride, distinct, in key order;
 * a transposed map is its downsampling map read backwards. It is part of the coordinate set's host description, not
 * of a backend, which is why it sits here and not in {@code cpu}: the core types depend on no backend's package.
 */
final class KernelMapBuilder {
    private static final int PARALLEL_ROWS = 4096;

    private KernelMapBuilder() {
    }

    static KernelMap build(CoordinateSet inputs, ConvGeometry geometry) {
        if (geometry.transposed()) {
            return transposed(inputs, geometry);
        }
        CoordinateSet outputs = geometry.isSubmanifold() ? inputs : downsampledSet(inputs, geometry);
        return KernelMap.of(geometry, inputs, outputs, query(inputs, outputs, geometry));
    }

    /**
     * For every output row and offset, the input at output + offset × dilation × input tensor stride. A neighbour
     * whose coordinate leaves the key range does not exist, exactly as one that is not in the set.
     */
    static int[] query(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
        int volume = geometry.volume();
        int[] deltas = geometry.deltas(inputs.tensorStride());
        int rows = outputs.size();
        int[] neighbours = MapTables.neighbourTable(rows, volume, "kernel map");
        IntStream range = IntStream.range(0, rows);
        (rows >= PARALLEL_ROWS ? range.parallel() : range).forEach(
                row -> inputs.findNeighbours(outputs.key(row), deltas, neighbours, row * volume));
        return neighbours;
    }

    /**
     * The output coordinates of a downsampling: each input floored to the new tensor stride (input stride × layer
     * stride), deduplicated, in key order. Cached on the input set through the map, so every layer with the same
     * geometry gets the same output set.
     */
    private static CoordinateSet downsampledSet(CoordinateSet inputs, ConvGeometry geometry) {
        Int3 outStride = inputs.tensorStride().times(geometry.stride());
        long[] keys = inputs.keys();
        long[] out = new long[keys.length];
        for (int row = 0; row < keys.length; row++) {
            long key = keys[row];
            int x = Math.floorDiv(CoordinateKey.x(key), outStride.x()) * outStride.x();
            int y = Math.floorDiv(CoordinateKey.y(key), outStride.y()) * outStride.y();
            int z = Math.floorDiv(CoordinateKey.z(key), outStride.z()) * outStride.z();
            if (!CoordinateKey.fits(CoordinateKey.batch(key), x, y, z)) {
                throw InvalidInputException.argument("kernel map " + geometry, "input row " + row + " "
                        + CoordinateKey.describe(key) + " floors to (" + x + ", " + y + ", " + z + ") at tensor stride "
                        + outStride + ", outside the representable range [" + CoordinateKey.MIN_COORDINATE + ", "
                        + CoordinateKey.MAX_COORDINATE + "]");
            }
            out[row] = CoordinateKey.signedOrder(CoordinateKey.pack(CoordinateKey.batch(key), x, y, z));
        }
        Arrays.parallelSort(out);
        int distinct = 0;
        for (int i = 0; i < out.length; i++) {
            if (i == 0 || out[i] != out[i - 1]) {
                out[distinct++] = out[i];
            }
        }
        long[] sorted = Arrays.copyOf(out, distinct);
        for (int i = 0; i < distinct; i++) {
            sorted[i] = CoordinateKey.signedOrder(sorted[i]);
        }
        return CoordinateSet.downsampled(sorted, outStride, inputs, geometry);
    }

    /**
     * The downsampling map that produced {@code coarse}, read backwards: the same pairs with input and output
     * swapped, and the same offsets, so upsampling lands exactly on the coordinates the downsampling started from.
     */
    private static KernelMap transposed(CoordinateSet coarse, ConvGeometry geometry) {
        CoordinateSet.Origin origin = coarse.origin();
        ConvGeometry forward = geometry.inverse();
        if (origin == null || !origin.geometry().equals(forward)) {
            throw InvalidInputException.argument("kernel map " + geometry, "a transposed convolution upsamples onto "
                    + "the coordinates of the strided convolution it undoes, but these coordinates ("
                    + coarse.size() + " at tensor stride " + coarse.tensorStride() + ") "
                    + (origin == null ? "did not come from a downsampling" : "came from " + origin.geometry()));
        }
        KernelMap down = origin.fine().kernelMap(forward);
        int volume = geometry.volume();
        CoordinateSet fine = origin.fine();
        int[] neighbours = new int[Math.multiplyExact(fine.size(), volume)];
        Arrays.fill(neighbours, -1);
        for (int v = 0; v < volume; v++) {
            for (long p = down.pairStart(v); p < down.pairStart(v + 1); p++) {
                neighbours[(int) ((long) down.pairInput(p) * volume + v)] = down.pairOutput(p);
            }
        }
        return KernelMap.of(geometry, coarse, fine, neighbours);
    }
}
