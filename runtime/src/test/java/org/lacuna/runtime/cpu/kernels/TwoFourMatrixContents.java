package org.lacuna.runtime.cpu.kernels;

/** A 2:4 form's stored arrays, for tests outside this package that compare two forms exactly. */
public final class TwoFourMatrixContents {
    private TwoFourMatrixContents() {
    }

    /** The kept values in the blocked order. */
    public static float[] values(TwoFourMatrix matrix) {
        return matrix.values().clone();
    }

    /** The nibbles in the blocked order. */
    public static byte[] nibbles(TwoFourMatrix matrix) {
        return matrix.nibbles().clone();
    }
}
