package org.lacuna.runtime.sparseconv;

import java.util.Arrays;
import org.lacuna.runtime.error.InvalidInputException;

/** Three positive integers, one per axis (x, y, z): a kernel size, a stride, a dilation or a tensor stride. */
public record Int3(int x, int y, int z) {
    public static Int3 of(int x, int y, int z) {
        return new Int3(x, y, z);
    }

    public static Int3 cubic(int value) {
        return new Int3(value, value, value);
    }

    /** The value on {@code axis} 0, 1 or 2. */
    public int get(int axis) {
        return switch (axis) {
            case 0 -> x;
            case 1 -> y;
            case 2 -> z;
            default -> throw new IllegalArgumentException("axis " + axis);
        };
    }

    public long product() {
        return (long) x * y * z;
    }

    /** The axis-wise product, failing if an entry leaves the int range (a stride that large names no grid). */
    public Int3 times(Int3 other) {
        return new Int3(Math.multiplyExact(x, other.x), Math.multiplyExact(y, other.y),
                Math.multiplyExact(z, other.z));
    }

    public boolean allOne() {
        return x == 1 && y == 1 && z == 1;
    }

    public int[] toArray() {
        return new int[] {x, y, z};
    }

    /** {@code values} (three entries, each at least 1), named {@code what} in the error. */
    static Int3 positive(String call, String what, int[] values) {
        if (values == null || values.length != 3) {
            throw InvalidInputException.shape(call, what + " needs 3 entries (x, y, z), got " + Arrays.toString(values));
        }
        for (int v : values) {
            if (v < 1) {
                throw InvalidInputException.argument(call, what + " " + Arrays.toString(values)
                        + " must be positive on every axis");
            }
        }
        return new Int3(values[0], values[1], values[2]);
    }

    @Override
    public String toString() {
        return x + "x" + y + "x" + z;
    }
}
