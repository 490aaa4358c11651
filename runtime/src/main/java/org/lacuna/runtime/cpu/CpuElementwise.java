package org.lacuna.runtime.cpu;

import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/** Bias + activation, casts and row reductions of the serving CPU backend. */
final class CpuElementwise {
    private final CpuContext context;
    private final ReferenceOps reference = new ReferenceOps(CpuBackendProvider.NAME);

    CpuElementwise(CpuContext context) {
        this.context = context;
    }

    void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        reference.biasActivation(x, bias, activation, y);
    }

    void cast(DeviceArray x, DeviceArray y) {
        reference.cast(x, y);
    }

    void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        reference.rowReduce(x, reduction, out);
    }
}
