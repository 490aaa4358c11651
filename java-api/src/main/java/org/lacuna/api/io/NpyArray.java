package org.lacuna.api.io;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * A numeric array read from an NPY file: its shape, its element type (FLOAT32, FLOAT64, INT32 or INT64) and its
 * values in C (row-major) order, whatever order the file stored them in.
 */
public final class NpyArray {
    private final long[] shape;
    private final ScalarType type;
    private final float[] floats;
    private final double[] doubles;
    private final int[] ints;
    private final long[] longs;

    private NpyArray(long[] shape, ScalarType type, float[] floats, double[] doubles, int[] ints, long[] longs) {
        this.shape = shape;
        this.type = type;
        this.floats = floats;
        this.doubles = doubles;
        this.ints = ints;
        this.longs = longs;
    }

    /** Decodes {@code data} (exactly the header's element count) and puts a Fortran-ordered array in C order. */
    static NpyArray decode(NpyHeader header, byte[] data) {
        ByteBuffer buffer = ByteBuffer.wrap(data).order(header.order());
        int n = data.length / header.type().byteSize();
        int[] source = header.fortranOrder() && header.shape().length > 1 ? fortranOffsets(header.shape(), n) : null;
        long[] shape = header.shape().clone();
        return switch (header.type()) {
            case FLOAT32 -> {
                float[] values = new float[n];
                for (int i = 0; i < n; i++) {
                    values[i] = buffer.getFloat(4 * (source == null ? i : source[i]));
                }
                yield new NpyArray(shape, header.type(), values, null, null, null);
            }
            case FLOAT64 -> {
                double[] values = new double[n];
                for (int i = 0; i < n; i++) {
                    values[i] = buffer.getDouble(8 * (source == null ? i : source[i]));
                }
                yield new NpyArray(shape, header.type(), null, values, null, null);
            }
            case INT32 -> {
                int[] values = new int[n];
                for (int i = 0; i < n; i++) {
                    values[i] = buffer.getInt(4 * (source == null ? i : source[i]));
                }
                yield new NpyArray(shape, header.type(), null, null, values, null);
            }
            case INT64 -> {
                long[] values = new long[n];
                for (int i = 0; i < n; i++) {
                    values[i] = buffer.getLong(8 * (source == null ? i : source[i]));
                }
                yield new NpyArray(shape, header.type(), null, null, null, values);
            }
            default -> throw new IllegalStateException("NPY type " + header.type());
        };
    }

    /** For each C-order position, the position of the same element in Fortran (column-major) order. */
    private static int[] fortranOffsets(long[] shape, int n) {
        int rank = shape.length;
        long[] fortranStride = new long[rank];
        long stride = 1;
        for (int d = 0; d < rank; d++) {
            fortranStride[d] = stride;
            stride *= shape[d];
        }
        int[] offsets = new int[n];
        long[] index = new long[rank];
        long offset = 0;
        for (int i = 0; i < n; i++) {
            offsets[i] = (int) offset;
            // Advance the C-order multi-index (last axis fastest) and keep the Fortran offset in step.
            for (int d = rank - 1; d >= 0; d--) {
                index[d]++;
                offset += fortranStride[d];
                if (index[d] < shape[d]) {
                    break;
                }
                offset -= index[d] * fortranStride[d];
                index[d] = 0;
            }
        }
        return offsets;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public ScalarType elementType() {
        return type;
    }

    public int size() {
        return switch (type) {
            case FLOAT32 -> floats.length;
            case FLOAT64 -> doubles.length;
            case INT32 -> ints.length;
            default -> longs.length;
        };
    }

    /** Element {@code index} in C order, as a double (INT64 values beyond 2^53 round). */
    public double get(int index) {
        return switch (type) {
            case FLOAT32 -> floats[index];
            case FLOAT64 -> doubles[index];
            case INT32 -> ints[index];
            default -> longs[index];
        };
    }

    /** Every element as a float (FLOAT64 and INT64 values round to the nearest float). */
    public float[] toFloats() {
        if (type == ScalarType.FLOAT32) {
            return floats.clone();
        }
        float[] out = new float[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) get(i);
        }
        return out;
    }

    public double[] toDoubles() {
        if (type == ScalarType.FLOAT64) {
            return doubles.clone();
        }
        double[] out = new double[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    /** The elements of an integer array. */
    public long[] toLongs() {
        return switch (type) {
            case INT64 -> longs.clone();
            case INT32 -> Arrays.stream(ints).asLongStream().toArray();
            default -> throw InvalidInputException.dtype("NpyArray.toLongs", "the array holds " + type
                    + ", not integers");
        };
    }

    /** The elements of an INT32 array, or of an INT64 array whose values all fit an int. */
    public int[] toInts() {
        return switch (type) {
            case INT32 -> ints.clone();
            case INT64 -> {
                int[] out = new int[longs.length];
                for (int i = 0; i < out.length; i++) {
                    if (longs[i] != (int) longs[i]) {
                        throw InvalidInputException.argument("NpyArray.toInts", "element " + i + " = " + longs[i]
                                + " does not fit an int");
                    }
                    out[i] = (int) longs[i];
                }
                yield out;
            }
            default -> throw InvalidInputException.dtype("NpyArray.toInts", "the array holds " + type
                    + ", not integers");
        };
    }

    @Override
    public String toString() {
        return "NpyArray[" + type + " " + Arrays.toString(shape) + "]";
    }
}
