package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * A 2:4 weight W[out, in] on a backend, in the layout the sparse tensor-core kernel reads (made once from
 * {@code org.lacuna.runtime.gemm.TwoFourWeights}): {@code values} [paddedOut, paddedIn/2] F16 or BF16, and
 * {@code metadata} I32 [paddedIn/32 · paddedOut/32 · 32], word (kb, q, lane) at {@code (kb·paddedOut/32 + q)·32 + lane}.
 */
public record TwoFourWeight(DeviceArray values, DeviceArray metadata, int out, int in, int paddedOut, int paddedIn) {
    public TwoFourWeight {
        String call = "TwoFourWeight";
        if (values.dtype() != DType.F16 && values.dtype() != DType.BF16) {
            throw InvalidInputException.dtype(call, "2:4 values must be F16 or BF16, got " + values.dtype());
        }
        if (metadata.dtype() != DType.I32) {
            throw InvalidInputException.dtype(call, "2:4 metadata must be I32, got " + metadata.dtype());
        }
        if (out <= 0 || in <= 0 || paddedOut % 128 != 0 || paddedIn % 64 != 0 || paddedOut < out || paddedIn < in) {
            throw InvalidInputException.shape(call, "padded shape " + paddedOut + "x" + paddedIn + " does not cover "
                    + out + "x" + in + " in multiples of 128x64");
        }
        if (values.elementCount() != (long) paddedOut * paddedIn / 2
                || metadata.elementCount() != (long) paddedIn / 32 * (paddedOut / 32) * 32) {
            throw InvalidInputException.shape(call, "values " + values.shape() + " / metadata " + metadata.shape()
                    + " do not match the padded shape " + paddedOut + "x" + paddedIn);
        }
    }

    public DType dtype() {
        return values.dtype();
    }
}
