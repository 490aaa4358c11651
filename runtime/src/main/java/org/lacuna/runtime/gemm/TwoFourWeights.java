package org.lacuna.runtime.gemm;

import static org.lacuna.runtime.gemm.WeightMatrices.GROUP_WIDTH;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;

/**
 * A 2:4 sparse weight W[out, in] compressed for the {@code mma.sp} kernel, built once at load time.
 *
 * <p>Layout (the kernel reads exactly this):
 * <ul>
 *   <li>Rows are padded to a multiple of {@value #ROW_PADDING} and columns to {@value #COLUMN_PADDING} with zeros, so
 *       the kernel's tiles never need bounds checks on W.</li>
 *   <li>{@code values}: 16-bit {@code dtype} bits, row-major [paddedOut][paddedIn / 2]; group j of row m (dense
 *       columns 4j..4j+3) stores its kept values at compressed columns 2j (position i0) and 2j + 1 (position i1),
 *       i0 &lt; i1.</li>
 *   <li>{@code metadata}: the nibbles {@code i0 | (i1 << 2)} in the lane order described in
 *       {@link TwoFourMetadata}.</li>
 * </ul>
 * A group with fewer than 2 non-zeros still stores a pair, completed with zero positions: one non-zero at p gives
 * {p, p == 0 ? 1 : 0}, none gives (0, 1). Padding groups are therefore (0, 1) with zero values.
 */
public final class TwoFourWeights {
    public static final int ROW_PADDING = 128;
    public static final int COLUMN_PADDING = 64;

    // CUDA devices are little-endian; writing explicitly keeps the upload right whatever the host order.
    private static final ValueLayout.OfShort VALUE_LAYOUT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt METADATA_LAYOUT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EMPTY_GROUP_NIBBLE = TwoFourMetadata.nibble(0, 1);

    private final int out;
    private final int in;
    private final int paddedOut;
    private final int paddedIn;
    private final DType dtype;
    private final short[] values;
    private final int[] metadata;

    private TwoFourWeights(int out, int in, int paddedOut, int paddedIn, DType dtype, short[] values, int[] metadata) {
        this.out = out;
        this.in = in;
        this.paddedOut = paddedOut;
        this.paddedIn = paddedIn;
        this.dtype = dtype;
        this.values = values;
        this.metadata = metadata;
    }

    /**
     * Compresses a 2:4 sparse W[out, in] (row-major), rounding the kept values to {@code dtype}.
     *
     * @param dtype {@link DType#F16} or {@link DType#BF16}
     * @throws InvalidInputException INVALID_ARGUMENT if W is not 2:4 sparse (see {@link TwoFourConformance#require}),
     *     holds NaN or infinities, or holds a value that overflows {@code dtype}; DTYPE_MISMATCH for another dtype;
     *     SHAPE_MISMATCH if {@code w.length != out * in}
     */
    public static TwoFourWeights compress(float[] w, int out, int in, DType dtype) {
        String call = "TwoFourWeights.compress";
        WeightMatrices.requireShape(call, w, out, in);
        if (dtype != DType.F16 && dtype != DType.BF16) {
            throw InvalidInputException.dtype(call, "2:4 sparse weights are stored as f16 or bf16, not " + dtype);
        }
        WeightMatrices.requireFinite(call, w, in);
        TwoFourConformance.require(w, out, in);
        int paddedOut = paddedSize(call, "out", out, ROW_PADDING);
        int paddedIn = paddedSize(call, "in", in, COLUMN_PADDING);
        if ((long) paddedOut * (paddedIn / 2) > Integer.MAX_VALUE - 8) {
            throw InvalidInputException.argument(call, "weight [out=" + out + ", in=" + in
                    + "] is too large for one compressed array");
        }

        int compressedColumns = paddedIn / 2;
        int paddedGroups = paddedIn / GROUP_WIDTH;
        short[] values = new short[paddedOut * compressedColumns];
        byte[] nibbles = new byte[paddedOut * paddedGroups];
        Arrays.fill(nibbles, (byte) EMPTY_GROUP_NIBBLE);
        for (int row = 0; row < out; row++) {
            for (int group = 0; group < WeightMatrices.groupsPerRow(in); group++) {
                int pair = keptPair(w, row * in + group * GROUP_WIDTH, WeightMatrices.groupLength(group, in));
                nibbles[row * paddedGroups + group] = (byte) pair;
                int target = row * compressedColumns + 2 * group;
                int firstColumn = GROUP_WIDTH * group;
                values[target] = encode(call, dtype, w, row, in, firstColumn + TwoFourMetadata.firstIndex(pair));
                values[target + 1] = encode(call, dtype, w, row, in, firstColumn + TwoFourMetadata.secondIndex(pair));
            }
        }
        return new TwoFourWeights(out, in, paddedOut, paddedIn, dtype, values,
                TwoFourMetadata.pack(nibbles, paddedOut, paddedIn));
    }

    /** Encodes kept positions {@code i0 < i1} of a group of 4 as the metadata nibble {@code i0 | (i1 << 2)}. */
    public static int nibble(int i0, int i1) {
        return TwoFourMetadata.nibble(i0, i1);
    }

    public int out() {
        return out;
    }

    public int in() {
        return in;
    }

    public int paddedOut() {
        return paddedOut;
    }

    public int paddedIn() {
        return paddedIn;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the stored values: {@code dtype} bits, row-major [paddedOut][paddedIn / 2]. */
    public short[] values() {
        return values.clone();
    }

    /** A copy of the metadata words, length {@code (paddedIn / 32) * (paddedOut / 32) * 32}. */
    public int[] metadata() {
        return metadata.clone();
    }

    public long valuesByteSize() {
        return (long) values.length * Short.BYTES;
    }

    public long metadataByteSize() {
        return (long) metadata.length * Integer.BYTES;
    }

    /**
     * A read-only view of the values, with no copy, to pass straight to an upload. It is in the host's byte order,
     * which is little-endian like the GPU's on every platform CUDA runs on; {@link #writeValues} writes little-endian
     * explicitly.
     */
    public MemorySegment valuesSegment() {
        return MemorySegment.ofArray(values).asReadOnly();
    }

    /** A read-only, copy-free view of the metadata words; see {@link #valuesSegment()} about byte order. */
    public MemorySegment metadataSegment() {
        return MemorySegment.ofArray(metadata).asReadOnly();
    }

    /** Writes the values, little-endian, into {@code target} at {@code byteOffset}: {@link #valuesByteSize()} bytes. */
    public void writeValues(MemorySegment target, long byteOffset) {
        MemorySegment.copy(values, 0, target, VALUE_LAYOUT, byteOffset, values.length);
    }

    /**
     * Writes the metadata, little-endian, into {@code target} at {@code byteOffset}: {@link #metadataByteSize()}
     * bytes.
     */
    public void writeMetadata(MemorySegment target, long byteOffset) {
        MemorySegment.copy(metadata, 0, target, METADATA_LAYOUT, byteOffset, metadata.length);
    }

    /** The metadata nibble of group {@code group} (dense columns 4 group..+3) of row {@code row}, padding included. */
    public int nibbleAt(int row, int group) {
        if (row < 0 || row >= paddedOut || group < 0 || group >= paddedIn / GROUP_WIDTH) {
            throw InvalidInputException.argument("TwoFourWeights.nibbleAt", "group (row " + row + ", group " + group
                    + ") is outside the padded [" + paddedOut + ", " + paddedIn / GROUP_WIDTH + "] groups");
        }
        return TwoFourMetadata.nibbleAt(metadata, row, group, paddedOut);
    }

    /** The dense W[out, in] rebuilt from the values and the decoded metadata. */
    public float[] decompress() {
        return decode(out, in);
    }

    /** The dense [paddedOut, paddedIn] matrix the kernel sees; everything outside [out, in] is zero. */
    public float[] decompressPadded() {
        return decode(paddedOut, paddedIn);
    }

    @Override
    public String toString() {
        return "TwoFourWeights[out=" + out + ", in=" + in + ", padded=" + paddedOut + "x" + paddedIn + ", dtype="
                + dtype.kernelName() + "]";
    }

    private float[] decode(int rows, int columns) {
        float[] dense = new float[rows * columns];
        int compressedColumns = paddedIn / 2;
        for (int row = 0; row < rows; row++) {
            for (int group = 0; group < Math.ceilDiv(columns, GROUP_WIDTH); group++) {
                int nibble = TwoFourMetadata.nibbleAt(metadata, row, group, paddedOut);
                if (!TwoFourMetadata.isValidNibble(nibble)) {
                    throw new LacunaException(ErrorCode.INTERNAL, "TwoFourWeights.decompress",
                            "invalid metadata nibble 0x" + Integer.toHexString(nibble) + " at row " + row + ", group "
                            + group);
                }
                int source = row * compressedColumns + 2 * group;
                int firstColumn = GROUP_WIDTH * group;
                place(dense, row, columns, firstColumn + TwoFourMetadata.firstIndex(nibble), values[source]);
                place(dense, row, columns, firstColumn + TwoFourMetadata.secondIndex(nibble), values[source + 1]);
            }
        }
        return dense;
    }

    /** A kept position can lie past the last column only in a trailing partial group, where its value is padding. */
    private void place(float[] dense, int row, int columns, int column, short bits) {
        if (column < columns) {
            dense[row * columns + column] = dtype == DType.F16 ? HalfFloats.fromF16(bits) : HalfFloats.fromBf16(bits);
        }
    }

    /**
     * The nibble of the pair of positions to store. Uses the non-zero positions; with fewer than two, completes the
     * pair with zero positions as the class comment says, so every group has a valid ordered nibble.
     */
    private static int keptPair(float[] w, int first, int length) {
        int firstNonZero = -1;
        int secondNonZero = -1;
        for (int i = 0; i < length; i++) {
            if (w[first + i] != 0f) {
                if (firstNonZero < 0) {
                    firstNonZero = i;
                } else {
                    secondNonZero = i;
                }
            }
        }
        if (secondNonZero >= 0) {
            return TwoFourMetadata.nibble(firstNonZero, secondNonZero);
        }
        if (firstNonZero > 0) {
            return TwoFourMetadata.nibble(0, firstNonZero);
        }
        return EMPTY_GROUP_NIBBLE; // no non-zero, or the only one at position 0: both give (0, 1)
    }

    /** The dtype bits of W[row][column], or zero for a padding column; rejects values the dtype cannot hold. */
    private static short encode(String call, DType dtype, float[] w, int row, int in, int column) {
        if (column >= in) {
            return 0;
        }
        float value = w[row * in + column];
        short bits = dtype == DType.F16 ? HalfFloats.toF16(value) : HalfFloats.toBf16(value);
        float stored = dtype == DType.F16 ? HalfFloats.fromF16(bits) : HalfFloats.fromBf16(bits);
        if (Float.isInfinite(stored)) {
            throw InvalidInputException.argument(call, "W[row " + row + ", column " + column + "] = " + value
                    + " overflows " + dtype.kernelName() + "; rescale the weight"
                    + (dtype == DType.F16 ? " or store it as bf16" : ""));
        }
        return bits;
    }

    private static int paddedSize(String call, String name, int size, int multiple) {
        long padded = (long) Math.ceilDiv(size, multiple) * multiple;
        if (padded > Integer.MAX_VALUE) {
            throw InvalidInputException.argument(call, name + "=" + size + " is too large to pad to a multiple of "
                    + multiple);
        }
        return (int) padded;
    }
}
