package org.lacuna.bench.gpu;

/**
 * How many copies of a benchmark's input set to cycle through so that no launch finds its inputs in the L2 cache
 * left warm by the launch before: a kernel timed on cached inputs reports a bandwidth the hardware cannot sustain.
 *
 * <p>The copies together span at least {@code workingSetTarget} bytes (default 256 MiB: five times the H100's
 * 50 MiB L2, more than any current GPU's), and at least {@link #MIN_COPIES} copies rotate whenever a set is smaller
 * than that target. A set at least as large as the target evicts itself and needs no rotation.
 *
 * @param setBytes         bytes of one copy of the input set (with alignment padding)
 * @param copies           copies to allocate and rotate through
 * @param workingSetTarget the span the copies were meant to reach
 */
public record InputRotation(long setBytes, int copies, long workingSetTarget) {
    public static final int MIN_COPIES = 4;
    public static final long DEFAULT_WORKING_SET_BYTES = 256L << 20;

    public InputRotation {
        if (setBytes <= 0 || copies <= 0 || workingSetTarget <= 0) {
            throw new IllegalArgumentException("setBytes, copies and workingSetTarget must be positive: "
                    + setBytes + ", " + copies + ", " + workingSetTarget);
        }
    }

    /**
     * Plans the rotation of a set of {@code setBytes} bytes, allocating no more than {@code memoryCapBytes} in all
     * (one copy is always allowed, even past the cap: the benchmark needs its input).
     */
    public static InputRotation plan(long setBytes, long workingSetTarget, long memoryCapBytes) {
        if (setBytes <= 0) {
            throw new IllegalArgumentException("an input set must have at least one byte, got " + setBytes);
        }
        if (workingSetTarget <= 0 || memoryCapBytes <= 0) {
            throw new IllegalArgumentException("workingSetTarget and memoryCapBytes must be positive");
        }
        if (setBytes >= workingSetTarget) {
            return new InputRotation(setBytes, 1, workingSetTarget);
        }
        long wanted = Math.max(MIN_COPIES, ceilDiv(workingSetTarget, setBytes));
        long affordable = Math.max(1, memoryCapBytes / setBytes);
        long copies = Math.min(Math.min(wanted, affordable), Integer.MAX_VALUE);
        return new InputRotation(setBytes, (int) copies, workingSetTarget);
    }

    /** The copy a launch uses: launches walk the copies in order and wrap around. */
    public int copyFor(long launchIndex) {
        return (int) Math.floorMod(launchIndex, (long) copies);
    }

    public long workingSetBytes() {
        return setBytes * copies;
    }

    /** False when the memory cap stopped the copies short of the target: the timing may include cache hits. */
    public boolean coversTarget() {
        return workingSetBytes() >= workingSetTarget;
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
