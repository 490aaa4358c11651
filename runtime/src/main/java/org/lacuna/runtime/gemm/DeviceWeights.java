package org.lacuna.runtime.gemm;

import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.TwoFourWeight;

/** Moves host-side weight formats onto a backend, once, at load time. The caller owns the returned buffers. */
public final class DeviceWeights {
    private DeviceWeights() {
    }

    public static TwoFourWeight upload(Backend backend, TwoFourWeights weights) {
        DeviceArray values = HostData.uploadBytes(backend, weights.dtype(),
                Shape.of(weights.paddedOut(), weights.paddedIn() / 2), weights.valuesSegment());
        try {
            DeviceArray metadata = HostData.uploadBytes(backend, DType.I32,
                    Shape.of(weights.metadataByteSize() / 4), weights.metadataSegment());
            return new TwoFourWeight(values, metadata, weights.out(), weights.in(), weights.paddedOut(), weights.paddedIn());
        } catch (RuntimeException e) {
            values.buffer().close();
            throw e;
        }
    }

    public static CsrWeight upload(Backend backend, CsrMatrix matrix) {
        DeviceArray offsets = HostData.upload(backend, Shape.of(matrix.out() + 1), matrix.rowOffsets());
        DeviceArray columns = null;
        try {
            columns = HostData.upload(backend, Shape.of(matrix.nonZeros()), matrix.columns());
            DeviceArray values = HostData.upload(backend, matrix.dtype(), Shape.of(matrix.nonZeros()), matrix.values());
            return new CsrWeight(offsets, columns, values, matrix.out(), matrix.in());
        } catch (RuntimeException e) {
            offsets.buffer().close();
            if (columns != null) {
                columns.buffer().close();
            }
            throw e;
        }
    }

    /** A dense weight [out, in] in {@code dtype}. */
    public static DeviceArray uploadDense(Backend backend, float[] w, int out, int in, DType dtype) {
        return HostData.upload(backend, dtype, Shape.of(out, in), w);
    }

    /** Frees the buffers of an uploaded 2:4 weight. */
    public static void release(TwoFourWeight weight) {
        weight.values().buffer().close();
        weight.metadata().buffer().close();
    }

    public static void release(CsrWeight weight) {
        weight.rowOffsets().buffer().close();
        weight.columns().buffer().close();
        weight.values().buffer().close();
    }
}
