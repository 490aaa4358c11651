package org.lacuna.api.models;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One step of a network's forward pass as it ran: its name, what it produced, how long it took (wall clock, the
 * device synchronised at the end of the step, so queued GPU work is counted where it ran) and its plan (the
 * convolutions' dataflows as chosen for this input).
 *
 * @param name          the step's parameter prefix ({@code stem}, {@code stage1} .. {@code stage4}, {@code up1} ..
 *                      {@code up4}, {@code classifier})
 * @param outputVoxels  rows of the step's output
 * @param outputChannels channels of the step's output
 * @param tensorStride  the output's grid spacing per axis
 * @param millis        wall-clock milliseconds
 * @param plan          one entry per convolution of the step, in order: e.g. {@code "k3 s1 32->32 gather-gemm-scatter"}
 */
public record LayerTime(String name, long outputVoxels, long outputChannels, int[] tensorStride, double millis,
                        List<String> plan) {
    public LayerTime {
        tensorStride = tensorStride.clone();
        plan = List.copyOf(plan);
    }

    @Override
    public int[] tensorStride() {
        return tensorStride.clone();
    }

    /** One console line: {@code stage1    12.3 ms  43,210 voxels x 32 at stride 2  [k2 s2 ...]}. */
    public String describe() {
        return String.format(Locale.ROOT, "%-10s %9.2f ms  %,9d voxels x %-3d stride %-2d %s", name, millis,
                outputVoxels, outputChannels, tensorStride[0], plan.isEmpty() ? "" : plan);
    }

    @Override
    public String toString() {
        return "LayerTime[" + name + ", " + millis + " ms, " + outputVoxels + " x " + outputChannels + ", stride "
                + Arrays.toString(tensorStride) + ", " + plan + "]";
    }
}
