package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.HalfFloats;

/**
 * A row-major matrix of F16 or BF16 elements in a segment, as attention operands are: row {@code r}, head {@code h},
 * element {@code d} at element index {@code r·rowStride + column + h·headDim + d} from {@code byteOffset}. A packed
 * QKV tensor is three of these over one segment, differing in {@code column}.
 *
 * <p>Each element rounds exactly as {@link HalfConversions} does (both go through {@link HalfFloats}); the loops stay
 * here because they fold attention's scale and the transposition of K into the same pass over one head's slice
 * (key attention's; flash attention widens and narrows whole rows of a head group through {@link HalfRows}).
 */
public record HalfMatrix(MemorySegment segment, long byteOffset, boolean bf16, long rowStride, long column) {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    long byteAt(long row, int head, int headDim) {
        return byteOffset + 2 * (row * rowStride + column + (long) head * headDim);
    }

    /** {@code to[at + d] = scale · this[row, head, d]} for {@code d < headDim}, through {@code bits}. */
    void widen(long row, int head, int headDim, float scale, short[] bits, float[] to, int at) {
        MemorySegment.copy(segment, U16, byteAt(row, head, headDim), bits, 0, headDim);
        if (bf16) {
            for (int d = 0; d < headDim; d++) {
                to[at + d] = HalfFloats.fromBf16(bits[d]) * scale;
            }
        } else {
            for (int d = 0; d < headDim; d++) {
                to[at + d] = HalfFloats.fromF16(bits[d]) * scale;
            }
        }
    }

    /** As {@link #widen}, into column {@code column} of a [headDim, width] matrix. */
    void widenTransposed(long row, int head, int headDim, short[] bits, float[] to, int column, int width) {
        MemorySegment.copy(segment, U16, byteAt(row, head, headDim), bits, 0, headDim);
        for (int d = 0; d < headDim; d++) {
            to[d * width + column] = bf16 ? HalfFloats.fromBf16(bits[d]) : HalfFloats.fromF16(bits[d]);
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
