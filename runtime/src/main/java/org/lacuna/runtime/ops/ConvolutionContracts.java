package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;

/** The argument checks of {@link ConvolutionOps}, shared by every backend so that all fail alike. */
public final class ConvolutionContracts {
    private ConvolutionContracts() {
    }

    public static void sparseConvolution(String backend, DeviceArray x, KernelMap map, DeviceArray weights,
                                         DeviceArray bias, Activation activation, Dataflow dataflow, DeviceArray y) {
        String call = "sparseConvolution";
        OpContracts.requireOpen(call, backend, x, weights, y);
        if (map == null || activation == null || dataflow == null) {
            throw InvalidInputException.argument(call, "map, activation and dataflow must not be null");
        }
        if (activation == Activation.GELU) {
            throw InvalidInputException.argument(call, "the sparse convolution epilogue supports NONE and RELU, "
                    + "not GELU");
        }
        requireHalfOrSingle(call, "x", x);
        requireHalfOrSingle(call, "y", y);
        if (weights.dtype() != x.dtype()) {
            throw InvalidInputException.dtype(call, "weights are " + weights.dtype() + " but x is " + x.dtype());
        }
        if (x.shape().rank() != 2 || weights.shape().rank() != 3 || y.shape().rank() != 2) {
            throw InvalidInputException.shape(call, "x [inputs, in], weights [volume, in, out], y [outputs, out] "
                    + "expected, got " + x.shape() + ", " + weights.shape() + ", " + y.shape());
        }
        long in = x.shape().dim(1);
        long out = weights.shape().dim(2);
        if (x.shape().dim(0) != map.inputCount()) {
            throw InvalidInputException.shape(call, "x has " + x.shape().dim(0) + " rows but the kernel map has "
                    + map.inputCount() + " input coordinates");
        }
        if (weights.shape().dim(0) != map.volume()) {
            throw InvalidInputException.shape(call, "weights have " + weights.shape().dim(0) + " kernel offsets but "
                    + map.geometry() + " has " + map.volume());
        }
        if (weights.shape().dim(1) != in) {
            throw InvalidInputException.shape(call, "channel mismatch: x has " + in + " input channels but the weights "
                    + "expect " + weights.shape().dim(1));
        }
        if (!y.shape().equals(Shape.of(map.outputCount(), out))) {
            throw InvalidInputException.shape(call, "y has shape " + y.shape() + " but the map and weights give ["
                    + map.outputCount() + ", " + out + "]");
        }
        if (in < 1 || out < 1) {
            throw InvalidInputException.shape(call, "channel counts must be positive, got in " + in + ", out " + out);
        }
        if (bias != null) {
            OpContracts.requireOpen(call, backend, bias);
            if (bias.dtype() != DType.F32 || !bias.shape().equals(Shape.of(out))) {
                throw InvalidInputException.shape(call, "bias must be F32 [" + out + "], got " + bias.dtype() + " "
                        + bias.shape());
            }
        }
        if (y.buffer() == x.buffer() || y.buffer() == weights.buffer()
                || (bias != null && y.buffer() == bias.buffer())) {
            requireDisjoint(call, y, x);
            requireDisjoint(call, y, weights);
            if (bias != null) {
                requireDisjoint(call, y, bias);
            }
        }
    }

    public static void unpackCoordinates(String backend, DeviceArray keys, DeviceArray coordinates) {
        String call = "unpackCoordinates";
        OpContracts.requireOpen(call, backend, keys, coordinates);
        if (keys.dtype() != DType.I64 || keys.shape().rank() != 1) {
            throw InvalidInputException.dtype(call, "keys must be I64 [n], got " + keys.dtype() + " " + keys.shape());
        }
        if (coordinates.dtype() != DType.I32 || !coordinates.shape().equals(Shape.of(keys.shape().dim(0), 4))) {
            throw InvalidInputException.shape(call, "coordinates must be I32 [" + keys.shape().dim(0) + ", 4], got "
                    + coordinates.dtype() + " " + coordinates.shape());
        }
        if (keys.buffer() == coordinates.buffer()) {
            requireDisjoint(call, coordinates, keys);
        }
    }

    /** {@link ConvolutionOps#adoptCoordinateKeys}: I64 [set size] on the backend, for a set made from keys. */
    public static void adoptCoordinateKeys(String backend, CoordinateSet set, DeviceArray keys) {
        String call = "adoptCoordinateKeys";
        if (set == null || keys == null) {
            throw InvalidInputException.argument(call, set == null ? "the coordinate set is null" : "keys are null");
        }
        OpContracts.requireOpen(call, backend, keys);
        if (keys.dtype() != DType.I64 || !keys.shape().equals(Shape.of(set.size()))) {
            throw InvalidInputException.shape(call, "the keys of " + set.size() + " coordinates must be I64 ["
                    + set.size() + "], got " + keys.dtype() + " " + keys.shape());
        }
        if (set.origin() != null) {
            throw InvalidInputException.argument(call, "a downsampled set's keys are computed from its finer set's, "
                    + "not handed in");
        }
    }

    public static void buildMapTables(CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
        String call = "buildMapTables";
        if (inputs == null || outputs == null || geometry == null) {
            throw InvalidInputException.argument(call, "inputs, outputs and geometry must not be null");
        }
        if (geometry.transposed()) {
            throw InvalidInputException.argument(call, "a transposed map is its downsampling map reversed, not a "
                    + "query");
        }
        if (!outputs.tensorStride().equals(inputs.tensorStride().times(geometry.stride()))) {
            throw InvalidInputException.argument(call, "outputs at tensor stride " + outputs.tensorStride()
                    + " do not match inputs at " + inputs.tensorStride() + " with stride " + geometry.stride());
        }
    }

    private static void requireHalfOrSingle(String call, String name, DeviceArray a) {
        if (a.dtype() != DType.F32 && a.dtype() != DType.F16) {
            throw InvalidInputException.dtype(call, name + " must be F32 or F16, got " + a.dtype());
        }
    }

    /** The output is scattered into row by row while the inputs are read: no sharing of bytes at all. */
    private static void requireDisjoint(String call, DeviceArray out, DeviceArray in) {
        if (out.buffer() != in.buffer()) {
            return;
        }
        boolean overlap = in.byteOffset() < out.byteOffset() + out.byteSize()
                && out.byteOffset() < in.byteOffset() + in.byteSize();
        if (overlap) {
            throw InvalidInputException.argument(call, "the output overlaps an input in the same buffer");
        }
    }
}
