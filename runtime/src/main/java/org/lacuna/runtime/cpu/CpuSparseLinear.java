package org.lacuna.runtime.cpu;

import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.TwoFourWeight;

/** Linear layers with a 2:4 or CSR weight on the serving CPU backend: only the stored non-zeros are multiplied. */
final class CpuSparseLinear {
    private final CpuContext context;
    private final ReferenceOps reference = new ReferenceOps(CpuBackendProvider.NAME);

    CpuSparseLinear(CpuContext context) {
        this.context = context;
    }

    void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        reference.linearTwoFour(x, w, bias, activation, y);
    }

    void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        reference.linearCsr(x, w, bias, activation, y);
    }
}
