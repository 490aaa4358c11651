package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DeviceArray;
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
 * The reference sparse convolution: output-stationary over the map's neighbour table, double accumulation, one
 * rounding to the output type, output rows spread over the fork-join pool. Each output is summed in offset order,
 * so the result does not depend on the thread count.
 */
final class ReferenceConvolutionOps implements ConvolutionOps {
    /** The backend whose tensors this serves: the reference's own, or the serving backend it stands in for. */
    private final String backend;
    /** This backend's state on coordinate sets: views of host arrays, dropped from the sets when it closes. */
    private final BackendResidency residency;

    ReferenceConvolutionOps(String backend) {
        this.backend = backend;
        this.residency = new BackendResidency(backend);
    }

    @Override
    public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                  Activation activation, Dataflow dataflow, DeviceArray y) {
        String call = "sparseConvolution";
        ConvolutionContracts.sparseConvolution(backend, x, map, weights, bias, activation, dataflow, y);
        int in = Math.toIntExact(x.shape().dim(1));
        int out = Math.toIntExact(weights.shape().dim(2));
        int volume = map.volume();
        float[] xs = read(x, call);
        float[] w = read(weights, call);
        double[] b = new double[out];
        if (bias != null) {
            MemorySegment segment = segment(bias, call);
            for (int c = 0; c < out; c++) {
                b[c] = CpuElements.read(segment, bias.byteOffset(), bias.dtype(), c);
            }
        }
        MemorySegment result = segment(y, call);
        ReferenceParallel.forEach(map.outputCount(), (long) map.outputCount() * volume * in * out, index -> {
            int row = (int) index;
            double[] acc = b.clone();
            for (int v = 0; v < volume; v++) {
                int source = map.neighbour(row, v);
                if (source < 0) {
                    continue;
                }
                long xBase = (long) source * in;
                long wBase = (long) v * in * out;
                for (int k = 0; k < in; k++) {
                    double xv = xs[(int) (xBase + k)];
                    int wRow = (int) (wBase + (long) k * out);
                    for (int c = 0; c < out; c++) {
                        acc[c] += xv * w[wRow + c];
                    }
                }
            }
            long yBase = (long) row * out;
            for (int c = 0; c < out; c++) {
                CpuElements.write(result, y.byteOffset(), y.dtype(), yBase + c, (float) activation.apply(acc[c]));
            }
        });
    }

    @Override
    public DeviceArray coordinateKeys(CoordinateSet set) {
        return HostResidency.keys(residency, backend, set);
    }

    @Override
    public DeviceArray adoptCoordinateKeys(CoordinateSet set, DeviceArray keys) {
        return HostResidency.adoptKeys(residency, backend, set, keys);
    }

    /** The reference path: the host map's arrays, as {@link CoordinateSet#kernelMap} built them. */
    @Override
    public ResidentKernelMap residentMap(KernelMap map) {
        return HostResidency.map(residency, backend, map);
    }

    /** Drops this backend's state from every coordinate set (the backend closes). */
    void close() {
        residency.close();
    }

    @Override
    public void unpackCoordinates(DeviceArray keys, DeviceArray coordinates) {
        HostResidency.unpack(backend, keys, coordinates);
    }

    @Override
    public MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
        ConvolutionContracts.buildMapTables(inputs, outputs, geometry);
        return MapTables.fromNeighbours(inputs.queryNeighbours(outputs, geometry), geometry.volume());
    }

    private static float[] read(DeviceArray array, String call) {
        long count = array.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new org.lacuna.runtime.error.NotSupportedException(call, "the CPU reference holds at most 2^31 elements "
                    + "per array, got " + count);
        }
        MemorySegment segment = segment(array, call);
        float[] out = new float[(int) count];
        for (int i = 0; i < out.length; i++) {
            out[i] = CpuElements.read(segment, array.byteOffset(), array.dtype(), i);
        }
        return out;
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}
