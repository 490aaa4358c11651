package org.lacuna.runtime.gemm;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.runtime.data.DType;

/**
 * Which weight forms a linear layer keeps, from its weight's statistics: the forms that could plausibly serve it
 * (CSR only at very low density, 2:4 only for a conformant 16-bit weight), so a layer does not hold a form that can
 * never win. Which kept form serves each input is the scheduler's choice ({@link org.lacuna.runtime.schedule.Scheduler}).
 */
public final class LinearKernelRule {
    /** Below this density cuSPARSE's CSR SpMM can beat dense GEMM (it pays per non-zero, not per element). */
    public static final double CSR_MAX_DENSITY = 0.05;

    private LinearKernelRule() {
    }

    /** Candidates in order of preference; DENSE is always among them, as the safe fallback. */
    public static List<LinearKernel> candidates(WeightStatistics stats, DType dtype) {
        List<LinearKernel> kernels = new ArrayList<>();
        if (stats.density() <= CSR_MAX_DENSITY) {
            kernels.add(LinearKernel.CSR);
        }
        if (stats.twoFourConformant() && (dtype == DType.F16 || dtype == DType.BF16)) {
            kernels.add(LinearKernel.TWO_FOUR);
        }
        kernels.add(LinearKernel.DENSE);
        return List.copyOf(kernels);
    }
}
