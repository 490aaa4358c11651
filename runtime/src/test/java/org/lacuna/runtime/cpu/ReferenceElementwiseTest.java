package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseConformance;

class ReferenceElementwiseTest extends ElementwiseConformance {
    @Override
    protected Backend openBackend() {
        return new ReferenceBackendProvider().open(0);
    }

    @Test
    void knownValues() {
        DeviceArray x = HostData.upload(backend, DType.F32, Shape.of(1, 4), new float[] {-1f, 0f, 1f, 2f});
        DeviceArray bias = HostData.upload(backend, DType.F32, Shape.of(4), new float[] {0.5f, 0f, 0f, -3f});
        DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(1, 4), new float[4]);
        backend.ops().elementwise().biasActivation(x, bias, Activation.GELU, y);
        float[] out = HostData.downloadFloats(backend, y);
        assertEquals(-0.15426877f, out[0], 1e-6f); // gelu(-0.5)
        assertEquals(0f, out[1]);
        assertEquals(0.8413447f, out[2], 1e-6f); // gelu(1)
        assertEquals(-0.15865526f, out[3], 1e-6f); // gelu(-1)
        backend.ops().elementwise().biasActivation(x, bias, Activation.RELU, y);
        float[] relu = HostData.downloadFloats(backend, y);
        assertEquals(0f, relu[0]);
        assertEquals(1f, relu[2]);
        x.buffer().close();
        bias.buffer().close();
        y.buffer().close();
        assertEquals(0, backend.memoryStats().inUseBytes());
    }
}
