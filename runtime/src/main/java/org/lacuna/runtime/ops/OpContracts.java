package org.lacuna.runtime.ops;

import java.util.Set;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;

/** The argument checks every backend applies before running an op, so all backends fail alike. */
public final class OpContracts {
    private static final Set<DType> FLOATS = Set.of(DType.F32, DType.F16, DType.BF16);

    private OpContracts() {
    }

    public static void biasActivation(String backend, DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        String call = "biasActivation";
        requireOpen(call, backend, x, y);
        if (activation == null) {
            throw InvalidInputException.argument(call, "activation is null");
        }
        requireFloat(call, "x", x);
        requireFloat(call, "y", y);
        if (!x.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + " but x has " + x.shape());
        }
        if (bias != null) {
            requireOpen(call, backend, bias);
            if (bias.dtype() != DType.F32) {
                throw InvalidInputException.dtype(call, "bias must be F32, got " + bias.dtype());
            }
            if (!bias.shape().equals(Shape.of(x.shape().columns()))) {
                throw InvalidInputException.shape(call, "bias has shape " + bias.shape() + " but x has "
                        + x.shape().columns() + " columns");
            }
        }
        requireNoOverlap(call, x, y);
    }

    public static void cast(String backend, DeviceArray x, DeviceArray y) {
        String call = "cast";
        requireOpen(call, backend, x, y);
        requireFloat(call, "x", x);
        requireFloat(call, "y", y);
        if (!x.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + " but x has " + x.shape());
        }
        requireNoOverlap(call, x, y);
    }

    public static void rowReduce(String backend, DeviceArray x, RowReduction reduction, DeviceArray out) {
        String call = "rowReduce";
        requireOpen(call, backend, x, out);
        if (reduction == null) {
            throw InvalidInputException.argument(call, "reduction is null");
        }
        requireFloat(call, "x", x);
        if (out.dtype() != DType.F32) {
            throw InvalidInputException.dtype(call, "out must be F32, got " + out.dtype());
        }
        if (x.shape().rank() < 1) {
            throw InvalidInputException.shape(call, "x must have at least one dimension");
        }
        if (!out.shape().equals(Shape.of(x.shape().rows()))) {
            throw InvalidInputException.shape(call, "out has shape " + out.shape() + " but x has " + x.shape().rows() + " rows");
        }
        if (reduction == RowReduction.MAX && x.shape().columns() == 0) {
            throw InvalidInputException.shape(call, "MAX of an empty row is undefined (x has 0 columns)");
        }
        requireNoOverlap(call, x, out);
    }

    /** Checks x [.., in], bias [out], y [.., out] of a linear layer with weight [out, in]; returns the token count. */
    public static long linear(String call, String backend, DeviceArray x, int out, int in, DeviceArray bias,
                              Activation activation, DeviceArray y) {
        requireOpen(call, backend, x, y);
        if (activation == null) {
            throw InvalidInputException.argument(call, "activation is null");
        }
        requireFloat(call, "x", x);
        requireFloat(call, "y", y);
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
            requireOpen(call, backend, bias);
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
        requireOpen(call, backend, w);
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
        requireOpen(call, backend, w.values(), w.metadata());
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
        requireOpen(call, backend, w.rowOffsets(), w.columns(), w.values());
        if (x.dtype() != w.values().dtype()) {
            throw InvalidInputException.dtype(call, "x is " + x.dtype() + " but the CSR values are " + w.values().dtype());
        }
        linear(call, backend, x, w.out(), w.in(), bias, activation, y);
    }

    /** Every array non-null, open and on {@code backend}: the check all op families share. */
    static void requireOpen(String call, String backend, DeviceArray... arrays) {
        for (DeviceArray a : arrays) {
            if (a == null) {
                throw InvalidInputException.argument(call, "a tensor argument is null");
            }
            a.checkOpen(call);
            if (!a.buffer().backendName().equals(backend)) {
                throw InvalidInputException.argument(call, "a tensor lives on the " + a.buffer().backendName()
                        + " backend but this op runs on " + backend);
            }
        }
    }

    static void requireFloat(String call, String name, DeviceArray a) {
        if (!FLOATS.contains(a.dtype())) {
            throw InvalidInputException.dtype(call, name + " must be F32, F16 or BF16, got " + a.dtype());
        }
    }

    /** In-place is only safe where input and output are the very same elements of the same width. */
    private static void requireNoOverlap(String call, DeviceArray in, DeviceArray out) {
        if (in.buffer() != out.buffer()) {
            return;
        }
        long inEnd = in.byteOffset() + in.byteSize();
        long outEnd = out.byteOffset() + out.byteSize();
        boolean overlap = in.byteOffset() < outEnd && out.byteOffset() < inEnd;
        boolean identical = in.byteOffset() == out.byteOffset() && in.dtype() == out.dtype() && in.shape().equals(out.shape());
        if (overlap && !identical) {
            throw InvalidInputException.argument(call, "input and output overlap partially in the same buffer");
        }
    }
}
