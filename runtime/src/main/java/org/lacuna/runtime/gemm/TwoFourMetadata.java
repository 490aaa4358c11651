package org.lacuna.runtime.gemm;

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

    private static int halfWord(byte[] nibbles, int first) {
        int bits = 0;
        for (int c = 0; c < GROUPS_PER_HALF_WORD; c++) {
            bits |= (nibbles[first + c] & 0xF) << (NIBBLE_BITS * c);
        }
        return bits;
    }
}
