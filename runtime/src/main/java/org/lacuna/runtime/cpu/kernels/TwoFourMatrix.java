package org.lacuna.runtime.cpu.kernels;

/**
 * A 2:4 weight W[out, in] in the form the CPU kernels read: the kept values widened once to fp32, two per group of 4
 * dense columns, and one byte per group holding the {@code mma.sp} nibble {@code i0 | (i1 << 2)} of the two kept
 * positions. Nothing is ever expanded to [out][in]: the kernels multiply the kept half only, and the form takes
 * {@value #BYTES_PER_GROUP} bytes per group where a dense fp32 row takes 16.
 *
 * <p>The groups are stored in column blocks of {@value #BLOCK_GROUPS} groups, block after block, and inside a block
 * row after row: {@code [block][row][group in block]} (the last block holds what is left of the groups). A tile goes
 * through its pass of x's panel with every row of its row block, so it reads each column block of the pass as one
 * sequential stream, which the hardware prefetchers follow (the wide tile's pass is one block, so one stream; the
 * narrow tile's is eight, so eight streams side by side). Stored row-major, each row's part of a block lay a whole weight row
 * (1.5 KiB at in = 768) from the previous one's: ad hoc on AMD Zen 4, one core, one 128-token tile against all 3072
 * rows of a 768-column weight streamed from L3, the blocked form ran at 74 GFLOP/s of kept products against 57 for
 * the row-major one (78 with one row's weights held in L1), and 7% faster (16.7 against 17.8 ms) over all four tiles
 * of 512 tokens in row blocks of 768.
 *
 * <p>Kept values whose position falls past {@code in} (the ragged last group) are stored as zero, and the kernels
 * read x through panels zero-padded to {@code 4 · groups} columns, so no position needs a bounds check.
 */
public final class TwoFourMatrix {
    /** Two fp32 values and one nibble byte. */
    public static final int BYTES_PER_GROUP = 2 * Float.BYTES + 1;
    /**
     * Groups of one column block: the groups a wide tile's pass covers, with 512-bit vectors 16 × 4 columns × 128
     * tokens × 4 bytes = 32 KiB of x panel, the L1 of the machines measured (what other pass sizes measured on Zen 4:
     * {@link VectorSparseTiles}).
     */
    public static final int BLOCK_GROUPS = 16;

    private final int out;
    private final int in;
    private final int groups;
    private final float[] values;
    private final byte[] nibbles;

    /**
     * @param values  [out][2 · groups] kept values, row-major, position i0 then i1 of each group
     * @param nibbles [out][groups] nibbles {@code i0 | (i1 << 2)} with {@code i0 < i1}, as the ordered metadata
     *                requires; the caller validates them (see {@link #isOrderedNibble})
     */
    public TwoFourMatrix(int out, int in, float[] values, byte[] nibbles) {
        this(out, in);
        if (values.length != (long) out * 2 * groups || nibbles.length != (long) out * groups) {
            throw new IllegalArgumentException("a " + out + "x" + in + " 2:4 matrix needs " + out * 2L * groups
                    + " values and " + (long) out * groups + " nibbles, got " + values.length + " and " + nibbles.length);
        }
        for (int row = 0; row < out; row++) {
            setRow(row, values, 2 * row * groups, nibbles, row * groups);
        }
    }

    private TwoFourMatrix(int out, int in) {
        this.out = out;
        this.in = in;
        this.groups = groupsOf(in);
        this.values = new float[Math.multiplyExact(out, 2 * groups)];
        this.nibbles = new byte[Math.multiplyExact(out, groups)];
    }

    /**
     * An {@code out × in} form whose groups are all still zero, for a conversion that stores each row with
     * {@link #setRow} straight into the blocked order (rows apart may be stored from different threads) instead of
     * building whole row-major arrays for the constructor to copy. Done before the form is handed to the kernels.
     */
    public static TwoFourMatrix empty(int out, int in) {
        return new TwoFourMatrix(out, in);
    }

    /**
     * Stores row {@code row}: its {@code 2 · groups} kept values from {@code rowValues[valueOffset]} and its
     * {@code groups} nibbles from {@code rowNibbles[nibbleOffset]}, in row order as the constructor takes them, each
     * column block's part copied to where {@link #blockRow} puts it. The nibbles are not judged here either. (Row by
     * row measured faster than a chunk of rows stored block by block, whose row-major staging cost more than the
     * longer runs saved: ad hoc, 384 × 1536, 0.46 against 0.54 ns per dense element for the whole conversion.)
     */
    public void setRow(int row, float[] rowValues, int valueOffset, byte[] rowNibbles, int nibbleOffset) {
        for (int block = 0, first = 0; first < groups; block++, first += BLOCK_GROUPS) {
            int width = Math.min(BLOCK_GROUPS, groups - first);
            int at = blockRow(block, row);
            System.arraycopy(rowNibbles, nibbleOffset + first, nibbles, at, width);
            System.arraycopy(rowValues, valueOffset + 2 * first, values, 2 * at, 2 * width);
        }
    }

    /** Groups of 4 dense columns that cover {@code in}. */
    public static int groupsOf(int in) {
        return (in + 3) / 4;
    }

    /** Whether a nibble names two positions {@code i0 < i1}, the only pairs the ordered metadata defines. */
    public static boolean isOrderedNibble(int nibble) {
        return (nibble & ~0xF) == 0 && (nibble & 3) < (nibble >>> 2);
    }

    public int out() {
        return out;
    }

    public int in() {
        return in;
    }

    public int groups() {
        return groups;
    }

    /** The dense columns the kernels' x panels cover: {@code in} rounded up to whole groups. */
    public int paddedIn() {
        return 4 * groups;
    }

    /** Column blocks of {@link #BLOCK_GROUPS} groups (the last one may hold fewer). */
    public int blocks() {
        return (groups + BLOCK_GROUPS - 1) / BLOCK_GROUPS;
    }

    /** Groups of column block {@code block}. */
    int blockGroups(int block) {
        return Math.min(BLOCK_GROUPS, groups - block * BLOCK_GROUPS);
    }

    /**
     * Where row {@code row}'s groups of block {@code block} start in {@link #nibbles} (and at twice that in
     * {@link #values}): the block's rows are stored one after the other.
     */
    int blockRow(int block, int row) {
        return block * BLOCK_GROUPS * out + row * blockGroups(block);
    }

    /** The kept values in the blocked order ({@link #blockRow}), position i0 then i1 of each group. */
    float[] values() {
        return values;
    }

    /** The nibbles in the blocked order ({@link #blockRow}). */
    byte[] nibbles() {
        return nibbles;
    }

    /** Bytes this form holds: about 56% of the dense fp32 weight, whatever {@code in} is. */
    public long byteSize() {
        return (long) values.length * Float.BYTES + nibbles.length;
    }

    /** Multiply-adds one token costs: the kept values, two per group, never the dropped ones. */
    public long multiplyAddsPerToken() {
        return values.length;
    }
}
