package org.lacuna.runtime.gemm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * The sparsity metadata of {@code mma.sp::ordered_metadata.m16n8k32} for 16-bit A, as {@link TwoFourWeights} stores it.
 *
 * <p>Each group of 4 dense columns is described by a nibble {@code i0 | (i1 << 2)}: the positions {@code i0 < i1}
 * of its two stored values. Nibbles are packed into one 32-bit word per lane, per 32 rows and per 32 dense columns,
 * so a warp fetches the metadata register for two m16 tiles with one coalesced load: word
 * {@code (kBlock * (paddedOut / 32) + rowGroup) * 32 + lane}, with {@code g = lane >> 2}, {@code t = lane & 3},
 * holds in its low half row {@code 32 rowGroup + g + 16 (t >> 1)} and in its high half that row + 8, each as the 4
 * nibbles of dense columns {@code 32 kBlock + 16 (t & 1) .. +15}. Lanes t = 0, 1 feed sparsity selector 0 (rows
 * 0..15 of the 32), lanes t = 2, 3 selector 1 (rows 16..31).
 */
public final class TwoFourMetadata {
    /** Rows covered by one 32-lane block of metadata words. */
    public static final int ROWS_PER_BLOCK = 32;
    /** Dense columns covered by one metadata word: 16 for each half of the lane pair. */
    public static final int COLUMNS_PER_BLOCK = 32;
    public static final int LANES = 32;

    private static final int GROUPS_PER_HALF_WORD = 4;
    private static final int NIBBLE_BITS = 4;
    /** Nibbles {@link #rowNibbles} decodes at a time: a row's two half-words, one nibble per byte of a long. */
    private static final int BYTES_PER_LONG = 2 * GROUPS_PER_HALF_WORD;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);

    private TwoFourMetadata() {
    }

    /** Encodes kept positions {@code i0 < i1} of a group of 4. The six results are 0x4, 0x8, 0xC, 0x9, 0xD, 0xE. */
    public static int nibble(int i0, int i1) {
        if (i0 < 0 || i1 > 3 || i0 >= i1) {
            throw InvalidInputException.argument("TwoFourMetadata.nibble", "kept positions (" + i0 + ", " + i1
                    + ") must satisfy 0 <= i0 < i1 <= 3; the ordered-metadata mma leaves other pairs undefined");
        }
        return i0 | (i1 << 2);
    }

    /** The ordered instruction only defines nibbles whose two indices increase from the low bits. */
    public static boolean isValidNibble(int nibble) {
        return (nibble & ~0xF) == 0 && firstIndex(nibble) < secondIndex(nibble);
    }

    public static int firstIndex(int nibble) {
        return nibble & 0x3;
    }

    public static int secondIndex(int nibble) {
        return (nibble >> 2) & 0x3;
    }

    public static int wordCount(int paddedOut, int paddedIn) {
        return paddedIn / COLUMNS_PER_BLOCK * (paddedOut / ROWS_PER_BLOCK) * LANES;
    }

    public static int wordIndex(int kBlock, int rowGroup, int lane, int paddedOut) {
        return (kBlock * (paddedOut / ROWS_PER_BLOCK) + rowGroup) * LANES + lane;
    }

    /**
     * Packs per-group nibbles, {@code nibbles[row * (paddedIn / 4) + group]}, into the lane-ordered words, walking the
     * layout the way the kernel reads it: lane by lane.
     */
    static int[] pack(byte[] nibbles, int paddedOut, int paddedIn) {
        int groupsPerRow = paddedIn / WeightMatrices.GROUP_WIDTH;
        int rowGroups = paddedOut / ROWS_PER_BLOCK;
        int[] words = new int[wordCount(paddedOut, paddedIn)];
        for (int kBlock = 0; kBlock < paddedIn / COLUMNS_PER_BLOCK; kBlock++) {
            for (int rowGroup = 0; rowGroup < rowGroups; rowGroup++) {
                for (int lane = 0; lane < LANES; lane++) {
                    int g = lane >> 2;
                    int t = lane & 3;
                    int row = ROWS_PER_BLOCK * rowGroup + g + 16 * (t >> 1);
                    int firstGroup = 8 * kBlock + GROUPS_PER_HALF_WORD * (t & 1);
                    int low = halfWord(nibbles, row * groupsPerRow + firstGroup);
                    int high = halfWord(nibbles, (row + 8) * groupsPerRow + firstGroup);
                    words[wordIndex(kBlock, rowGroup, lane, paddedOut)] = low | (high << 16);
                }
            }
        }
        return words;
    }

    /**
     * Reads back the nibble of (row, group) by inverting the lane mapping, rather than reusing {@link #pack}'s
     * arithmetic, so that round trips through both check the layout.
     */
    public static int nibbleAt(int[] metadata, int row, int group, int paddedOut) {
        int kBlock = group >> 3;
        int groupInBlock = group & 7;
        int laneHalf = groupInBlock >> 2;
        int groupInHalf = groupInBlock & 3;
        int rowInBlock = row & 31;
        int selector = rowInBlock >> 4;
        int upperEight = (rowInBlock >> 3) & 1;
        int g = rowInBlock & 7;
        int lane = 4 * g + 2 * selector + laneHalf;
        int shift = 16 * upperEight + NIBBLE_BITS * groupInHalf;
        return (metadata[wordIndex(kBlock, row / ROWS_PER_BLOCK, lane, paddedOut)] >>> shift) & 0xF;
    }

    /**
     * The nibbles of row {@code row}'s groups {@code [0, groups)} into {@code into[0, groups)}, as {@link #nibbleAt}
     * gives them one by one, and the first of those groups whose nibble is not valid ({@link #isValidNibble}), or -1.
     * The row's two half-words of each 32-column block (lanes {@code lane} and {@code lane + 1}) hold its 8 nibbles
     * there: they are spread into 8 bytes and checked together, a word read once rather than once per group (a
     * weight's first call on the CPU backend pays this for every group).
     */
    public static int rowNibbles(int[] metadata, int row, int paddedOut, int groups, byte[] into) {
        int rowInBlock = row & 31;
        int lane = 4 * (rowInBlock & 7) + 2 * (rowInBlock >> 4);
        int shift = 16 * ((rowInBlock >> 3) & 1);
        int wordsPerBlock = paddedOut / ROWS_PER_BLOCK * LANES;
        int word = wordIndex(0, row / ROWS_PER_BLOCK, lane, paddedOut);
        int firstInvalid = -1;
        for (int first = 0; first < groups; first += BYTES_PER_LONG, word += wordsPerBlock) {
            int eight = (metadata[word] >>> shift & 0xFFFF) | (metadata[word + 1] >>> shift) << 16;
            long bytes = spreadNibbles(eight);
            int count = Math.min(BYTES_PER_LONG, groups - first);
            if (count == BYTES_PER_LONG) {
                LONGS.set(into, first, bytes);
            } else {
                for (int i = 0; i < count; i++) {
                    into[first + i] = (byte) (bytes >>> (Byte.SIZE * i));
                }
            }
            long invalid = invalidBytes(bytes) & (-1L >>> (Byte.SIZE * (BYTES_PER_LONG - count)));
            if (invalid != 0 && firstInvalid < 0) {
                firstInvalid = first + Long.numberOfTrailingZeros(invalid) / Byte.SIZE;
            }
        }
        return firstInvalid;
    }

    /** The 8 nibbles of {@code eight}, lowest first, one to a byte of the result (lowest byte first). */
    private static long spreadNibbles(int eight) {
        long x = eight & 0xFFFFFFFFL;
        x = (x | x << 16) & 0x0000FFFF0000FFFFL;
        x = (x | x << 8) & 0x00FF00FF00FF00FFL;
        return (x | x << 4) & 0x0F0F0F0F0F0F0F0FL;
    }

    /**
     * The high bit of each byte of {@code nibbles} (one nibble to a byte) whose positions do not increase, i1 <= i0:
     * per byte {@code 128 + i1 - i0 - 1} lies in [124, 130], so no byte borrows from its neighbour, and its high bit
     * is clear exactly where {@code i1 < i0 + 1}.
     */
    private static long invalidBytes(long nibbles) {
        long first = nibbles & 0x0303030303030303L;
        long second = nibbles >>> 2 & 0x0303030303030303L;
        return ~((second | 0x8080808080808080L) - first - 0x0101010101010101L) & 0x8080808080808080L;
    }

    private static int halfWord(byte[] nibbles, int first) {
        int bits = 0;
        for (int c = 0; c < GROUPS_PER_HALF_WORD; c++) {
            bits |= (nibbles[first + c] & 0xF) << (NIBBLE_BITS * c);
        }
        return bits;
    }
}
