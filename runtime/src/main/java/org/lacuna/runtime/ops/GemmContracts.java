package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.data.Shape;

/** The argument checks of {@link GemmOps}, shared by every backend so that all fail alike. */
public final class GemmContracts {
    private GemmContracts() {
    }

    /** Checks x [.., in], bias [out], y [.., out] of a linear layer with weight [out, in]; returns the token count. */
    public static long linear(String call, String backend, DeviceArray x, int out, int in, DeviceArray bias,
                              Activation activation, DeviceArray y) {
        OpContracts.requireOpen(call, backend, x, y);
        if (activation == null) {
            throw InvalidInputException.argument(call, "activation is null");
        }
        OpContracts.requireFloat(call, "x", x);
        OpContracts.requireFloat(call, "y", y);
        if (x.shape().rank() < 2 || y.shape().rank() != x.shape().rank()) {
            throw InvalidInputException.shape(call, "x " + x.shape() + " and y " + y.shape()
                    + " must both be [tokens, features] (or batched with the same rank)");
        }
        if (x.shape().columns() != in) {
            throw InvalidInputException.shape(call, "x has " + x.shape().columns() + " features, the weight expects " + in);
        }
        if (y.shape().columns() != out || y.shape().rows() != x.shape().rows()) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + ", expected " + x.shape().rows()
                    + " rows of " + out + " features");
        }
        if (bias != null) {
            OpContracts.requireOpen(call, backend, bias);
            if (bias.dtype() != DType.F32 || !bias.shape().equals(Shape.of(out))) {
                throw InvalidInputException.shape(call, "bias must be F32 [" + out + "], got " + bias.dtype() + bias.shape());
            }
        }
        if (x.buffer() == y.buffer()) {
            throw InvalidInputException.argument(call, "x and y must not share a buffer");
        }
        return x.shape().rows();
    }

    public static void linearDense(String backend, DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation,
                                   DeviceArray y) {
        String call = "linearDense";
        OpContracts.requireOpen(call, backend, w);
        if (w.shape().rank() != 2 || w.dtype() != x.dtype()) {
            throw InvalidInputException.dtype(call, "w must be a [out, in] matrix of x's dtype " + x.dtype()
                    + ", got " + w.dtype() + w.shape());
        }
        linear(call, backend, x, Math.toIntExact(w.shape().dim(0)), Math.toIntExact(w.shape().dim(1)), bias, activation, y);
    }

    public static void linearTwoFour(String backend, DeviceArray x, TwoFourWeight w, DeviceArray bias,
                                     Activation activation, DeviceArray y) {
        String call = "linearTwoFour";
        if (w == null) {
            throw InvalidInputException.argument(call, "weight is null");
        }
        OpContracts.requireOpen(call, backend, w.values(), w.metadata());
        if (x.dtype() != w.dtype()) {
            throw InvalidInputException.dtype(call, "x is " + x.dtype() + " but the 2:4 weight is " + w.dtype()
                    + " (the sparse tensor cores take both operands in one 16-bit type)");
        }
        linear(call, backend, x, w.out(), w.in(), bias, activation, y);
    }

    public static void linearCsr(String backend, DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation,
                                 DeviceArray y) {
        String call = "linearCsr";
        if (w == null) {
            throw InvalidInputException.argument(call, "weight is null");
        }
        OpContracts.requireOpen(call, backend, w.rowOffsets(), w.columns(), w.values());
        if (x.dtype() != w.values().dtype()) {
            throw InvalidInputException.dtype(call, "x is " + x.dtype() + " but the CSR values are " + w.values().dtype());
        }
        linear(call, backend, x, w.out(), w.in(), bias, activation, y);
    }
}
