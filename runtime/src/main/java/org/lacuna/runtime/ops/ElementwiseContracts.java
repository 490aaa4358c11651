package org.lacuna.runtime.ops;

import java.util.List;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.data.Shape;

/** The argument checks of {@link ElementwiseOps}, shared by every backend so that all fail alike. */
public final class ElementwiseContracts {
    private ElementwiseContracts() {
    }

    public static void biasActivation(String backend, DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        String call = "biasActivation";
        OpContracts.requireOpen(call, backend, x, y);
        if (activation == null) {
            throw InvalidInputException.argument(call, "activation is null");
        }
        OpContracts.requireFloat(call, "x", x);
        OpContracts.requireFloat(call, "y", y);
        if (!x.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + " but x has " + x.shape());
        }
        if (bias != null) {
            OpContracts.requireOpen(call, backend, bias);
            if (bias.dtype() != DType.F32) {
                throw InvalidInputException.dtype(call, "bias must be F32, got " + bias.dtype());
            }
            if (!bias.shape().equals(Shape.of(x.shape().columns()))) {
                throw InvalidInputException.shape(call, "bias has shape " + bias.shape() + " but x has "
                        + x.shape().columns() + " columns");
            }
        }
        OpContracts.requireNoOverlap(call, "x", x, "y", y);
    }

    public static void cast(String backend, DeviceArray x, DeviceArray y) {
        String call = "cast";
        OpContracts.requireOpen(call, backend, x, y);
        OpContracts.requireFloat(call, "x", x);
        OpContracts.requireFloat(call, "y", y);
        if (!x.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + " but x has " + x.shape());
        }
        OpContracts.requireNoOverlap(call, "x", x, "y", y);
    }

    public static void rowReduce(String backend, DeviceArray x, RowReduction reduction, DeviceArray out) {
        String call = "rowReduce";
        OpContracts.requireOpen(call, backend, x, out);
        if (reduction == null) {
            throw InvalidInputException.argument(call, "reduction is null");
        }
        OpContracts.requireFloat(call, "x", x);
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
        OpContracts.requireNoOverlap(call, "x", x, "out", out);
    }

    public static void add(String backend, DeviceArray a, DeviceArray b, DeviceArray y) {
        String call = "add";
        OpContracts.requireOpen(call, backend, a, b, y);
        OpContracts.requireFloat(call, "a", a);
        if (a.dtype() != b.dtype() || a.dtype() != y.dtype()) {
            throw InvalidInputException.dtype(call, "a, b and y must share a dtype, got " + a.dtype() + ", " + b.dtype()
                    + ", " + y.dtype());
        }
        if (!a.shape().equals(b.shape()) || !a.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "a " + a.shape() + ", b " + b.shape() + " and y " + y.shape()
                    + " must have one shape");
        }
        OpContracts.requireNoOverlap(call, "a", a, "y", y);
        OpContracts.requireNoOverlap(call, "b", b, "y", y);
    }

    public static void layerNorm(String backend, DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon,
                                 DeviceArray y) {
        String call = "layerNorm";
        OpContracts.requireOpen(call, backend, x, gamma, y);
        OpContracts.requireFloat(call, "x", x);
        OpContracts.requireFloat(call, "y", y);
        if (!x.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + " but x has " + x.shape());
        }
        normParameters(call, backend, x, gamma, beta, epsilon);
        OpContracts.requireNoOverlap(call, "x", x, "y", y);
    }

    public static void residualLayerNorm(String backend, DeviceArray x, DeviceArray residual, DeviceArray gamma,
                                         DeviceArray beta, double epsilon, DeviceArray y) {
        String call = "residualLayerNorm";
        OpContracts.requireOpen(call, backend, x, residual, gamma, y);
        OpContracts.requireFloat(call, "x", x);
        if (x.dtype() != residual.dtype() || x.dtype() != y.dtype()) {
            throw InvalidInputException.dtype(call, "x, residual and y must share a dtype, got " + x.dtype() + ", "
                    + residual.dtype() + ", " + y.dtype());
        }
        if (!x.shape().equals(residual.shape()) || !x.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "x " + x.shape() + ", residual " + residual.shape() + " and y "
                    + y.shape() + " must have one shape");
        }
        normParameters(call, backend, x, gamma, beta, epsilon);
        OpContracts.requireNoOverlap(call, "x", x, "y", y);
        OpContracts.requireNoOverlap(call, "residual", residual, "y", y);
    }

    /** The checks layer norm and its residual form share: a non-empty last dimension, gamma, beta and epsilon. */
    private static void normParameters(String call, String backend, DeviceArray x, DeviceArray gamma, DeviceArray beta,
                                       double epsilon) {
        if (x.shape().rank() < 1 || x.shape().columns() == 0) {
            throw InvalidInputException.shape(call, "x needs a non-empty last dimension, got " + x.shape());
        }
        Shape columns = Shape.of(x.shape().columns());
        if (gamma.dtype() != DType.F32 || !gamma.shape().equals(columns)) {
            throw InvalidInputException.shape(call, "gamma must be F32 " + columns + ", got " + gamma.dtype() + gamma.shape());
        }
        if (beta != null) {
            OpContracts.requireOpen(call, backend, beta);
            if (beta.dtype() != DType.F32 || !beta.shape().equals(columns)) {
                throw InvalidInputException.shape(call, "beta must be F32 " + columns + ", got " + beta.dtype() + beta.shape());
            }
        }
        if (!(epsilon > 0.0) || Double.isInfinite(epsilon)) {
            throw InvalidInputException.argument(call, "epsilon must be positive and finite, got " + epsilon);
        }
    }

    public static void batchNorm(String backend, DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
        String call = "batchNorm";
        OpContracts.requireOpen(call, backend, x, scale, shift, y);
        OpContracts.requireFloat(call, "x", x);
        OpContracts.requireFloat(call, "y", y);
        if (!x.shape().equals(y.shape())) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + " but x has " + x.shape());
        }
        if (x.shape().rank() < 1) {
            throw InvalidInputException.shape(call, "x must have a channel dimension, got " + x.shape());
        }
        Shape channels = Shape.of(x.shape().columns());
        for (DeviceArray p : List.of(scale, shift)) {
            if (p.dtype() != DType.F32 || !p.shape().equals(channels)) {
                throw InvalidInputException.shape(call, "scale and shift must be F32 " + channels + ", got "
                        + p.dtype() + p.shape());
            }
        }
        OpContracts.requireNoOverlap(call, "x", x, "y", y);
    }

    public static void concatColumns(String backend, DeviceArray a, DeviceArray b, DeviceArray y) {
        String call = "concatColumns";
        OpContracts.requireOpen(call, backend, a, b, y);
        if (a.dtype() != b.dtype() || a.dtype() != y.dtype()) {
            throw InvalidInputException.dtype(call, "a, b and y must share a dtype, got " + a.dtype() + ", "
                    + b.dtype() + ", " + y.dtype());
        }
        if (a.shape().rank() != 2 || b.shape().rank() != 2 || y.shape().rank() != 2) {
            throw InvalidInputException.shape(call, "a " + a.shape() + ", b " + b.shape() + " and y " + y.shape()
                    + " must be [rows, columns] matrices");
        }
        long rows = a.shape().dim(0);
        if (b.shape().dim(0) != rows || y.shape().dim(0) != rows
                || y.shape().dim(1) != a.shape().dim(1) + b.shape().dim(1)) {
            throw InvalidInputException.shape(call, "y " + y.shape() + " must be [" + rows + ", "
                    + a.shape().dim(1) + " + " + b.shape().dim(1) + "] for a " + a.shape() + " and b " + b.shape());
        }
        for (DeviceArray in : List.of(a, b)) {
            if (OpContracts.overlaps(in, y)) {
                throw InvalidInputException.argument(call, "an input overlaps y");
            }
        }
    }
}
