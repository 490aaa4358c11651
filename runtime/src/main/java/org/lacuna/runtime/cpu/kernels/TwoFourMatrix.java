package org.lacuna.runtime.cpu.kernels;

/**
 * A 2:4 weight W[out, in] in the form the CPU kernels read: the kept values widened once to fp32, row-major
 * [out][2 · groups], and one byte per group of 4 dense columns holding the {@code mma.sp} nibble {@code i0 | (i1 << 2)}
 * of the two kept positions. Nothing is ever expanded to [out][in]: the kernels multiply the kept half only, and the
 * form takes {@value #BYTES_PER_GROUP} bytes per group where a dense fp32 row takes 16.
 *
 * <p>Kept values whose position falls past {@code in} (the ragged last group) are stored as zero, and the kernels
 * read x through panels zero-padded to {@code 4 · groups} columns, so no position needs a bounds check.
 */
public final class TwoFourMatrix {
    /** Two fp32 values and one nibble byte. */
    public static final int BYTES_PER_GROUP = 2 * Float.BYTES + 1;

    private final int out;
    private final int in;
    private final int groups;
    private final float[] values;
    private final byte[] nibbles;

    /**
     * @param values  [out][2 · groups] kept values, position i0 then i1 of each group
     * @param nibbles [out][groups] nibbles {@code i0 | (i1 << 2)} with {@code i0 < i1}, as the ordered metadata
     *                requires; the caller validates them (see {@link #isOrderedNibble})
     */
    public TwoFourMatrix(int out, int in, float[] values, byte[] nibbles) {
        this.out = out;
        this.in = in;
        this.groups = groupsOf(in);
        if (values.length != (long) out * 2 * groups || nibbles.length != (long) out * groups) {
            throw new IllegalArgumentException("a " + out + "x" + in + " 2:4 matrix needs " + out * 2L * groups
                    + " values and " + (long) out * groups + " nibbles, got " + values.length + " and " + nibbles.length);
        }
        this.values = values;
        this.nibbles = nibbles;
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

    float[] values() {
        return values;
    }

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
