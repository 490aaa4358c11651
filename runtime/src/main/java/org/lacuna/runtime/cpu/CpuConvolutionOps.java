package org.lacuna.runtime.cpu;

import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapTables;

/** Point-cloud sparse convolution of the serving CPU backend. */
final class CpuConvolutionOps implements ConvolutionOps {
    private final CpuContext context;
    private final ReferenceConvolutionOps reference = new ReferenceConvolutionOps(CpuBackendProvider.NAME);

    CpuConvolutionOps(CpuContext context) {
        this.context = context;
    }

    @Override
    public void sparseConvolution(DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                  Activation activation, Dataflow dataflow, DeviceArray y) {
        reference.sparseConvolution(x, map, weights, bias, activation, dataflow, y);
    }

    @Override
    public MapTables buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
        return reference.buildMapTables(inputs, outputs, geometry);
    }
}
