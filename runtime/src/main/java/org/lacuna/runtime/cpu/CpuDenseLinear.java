package org.lacuna.runtime.cpu;

import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.ops.Activation;

/** {@code y = act(x · wᵀ + b)} with a dense weight on the serving CPU backend. */
final class CpuDenseLinear {
    private final CpuContext context;
    private final ReferenceOps reference = new ReferenceOps(CpuBackendProvider.NAME);

    CpuDenseLinear(CpuContext context) {
        this.context = context;
    }

    void linear(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        reference.linearDense(x, w, bias, activation, y);
    }
}
