package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.HalfFloats;

/**
 * A row-major matrix of F16 or BF16 elements in a segment, as attention operands are: row {@code r}, head {@code h},
 * element {@code d} at element index {@code r·rowStride + column + h·headDim + d} from {@code byteOffset}. A packed
 * QKV tensor is three of these over one segment, differing in {@code column}.
 *
 * <p>Each element rounds exactly as {@link HalfConversions} does (both go through {@link HalfFloats}, element by
 * element in {@link HalfRows}): these are the scalar forms of the attention tile math's widening and narrowing.
 */
public record HalfMatrix(MemorySegment segment, long byteOffset, boolean bf16, long rowStride, long column) {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    long byteAt(long row, int head, int headDim) {
        return byteOffset + 2 * (row * rowStride + column + (long) head * headDim);
    }

    /** {@code to[at + c] = scale · this[row, head, c]} for {@code c < count}, through {@code bits}. */
    void widen(long row, int head, int headDim, int count, float scale, short[] bits, float[] to, int at) {
        read(row, head, headDim, count, bits);
        HalfRows.widen(bits, 0, bf16, scale, to, at, count);
    }

    /** {@code this[row, head, c] = round(from[at + c])} for {@code c < count}, through {@code bits}. */
    void narrow(float[] from, int at, long row, int head, int headDim, int count, short[] bits) {
        HalfRows.narrow(from, at, bf16, bits, 0, count);
        write(row, head, headDim, count, bits);
    }

    /** As {@link #widen} (one head, scale 1), into column {@code column} of a [headDim, width] matrix. */
    void widenTransposed(long row, int head, int headDim, short[] bits, float[] to, int column, int width) {
        read(row, head, headDim, headDim, bits);
        for (int d = 0; d < headDim; d++) {
            to[d * width + column] = HalfRows.widen(bits[d], bf16);
        }
    }

    /**
     * Copies {@code count} consecutive elements of row {@code row} from head {@code head}'s first one into
     * {@code bits}: the heads of a group in one run of the row, as stored.
     */
    void read(long row, int head, int headDim, int count, short[] bits) {
        MemorySegment.copy(segment, U16, byteAt(row, head, headDim), bits, 0, count);
    }

    /** The converse of {@link #read}: {@code count} elements of {@code bits} into the row from head {@code head}. */
    void write(long row, int head, int headDim, int count, short[] bits) {
        MemorySegment.copy(bits, 0, segment, U16, byteAt(row, head, headDim), count);
    }

    /** Zeros row {@code row}'s {@code count} elements from its column. */
    public void zeroRow(long row, long count) {
        segment.asSlice(byteOffset + 2 * (row * rowStride + column), 2 * count).fill((byte) 0);
    }
}
