package org.lacuna.runtime.gemm;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.runtime.data.DType;

/**
 * Which kernels can serve a linear layer, and which to try first, from its weight's statistics. The rule only
 * narrows the field; on a GPU the layer then times the candidates on the real input and keeps the fastest
 * ({@link org.lacuna.runtime.tuning.MeasuredChoice}), so a rule that guesses wrong costs one measurement, never speed.
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
