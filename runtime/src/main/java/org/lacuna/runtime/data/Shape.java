package org.lacuna.runtime.data;

import java.util.Arrays;
import org.lacuna.runtime.error.InvalidInputException;

/** An immutable row-major tensor shape. */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    public static Shape of(long... dims) {
        long[] copy = dims.clone();
        long elements = 1;
        for (long d : copy) {
            if (d < 0) {
                throw InvalidInputException.shape("Shape.of", "negative dimension in " + Arrays.toString(copy));
            }
            try {
                elements = Math.multiplyExact(elements, Math.max(d, 1));
            } catch (ArithmeticException e) {
                throw InvalidInputException.shape("Shape.of", "element count of " + Arrays.toString(copy) + " overflows a long");
            }
        }
        return new Shape(copy);
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int axis) {
        int a = axis < 0 ? dims.length + axis : axis;
        if (a < 0 || a >= dims.length) {
            throw InvalidInputException.shape("Shape.dim", "axis " + axis + " out of range for rank " + dims.length);
        }
        return dims[a];
    }

    public long[] dims() {
        return dims.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Product of all dimensions but the last: the row count of the tensor viewed as a matrix. */
    public long rows() {
        long rows = 1;
        for (int i = 0; i < dims.length - 1; i++) {
            rows = Math.multiplyExact(rows, dims[i]);
        }
        return rows;
    }

    /** The last dimension: the row length of the tensor viewed as a matrix. */
    public long columns() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
