package org.lacuna.runtime.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.ops.RowReduction;

/**
 * {@link RowKernels#accumulate} on the Vector API: one partial per lane, a ragged tail folded into the lanes in order,
 * so the result depends on the row alone. Only loaded where {@code jdk.incubator.vector} is present.
 */
final class VectorRowReduction {
    private static final VectorSpecies<Float> FLOATS = VectorHalfConversions.FLOATS;

    private VectorRowReduction() {
    }

    static int lanes() {
        return FLOATS.length();
    }

    static void accumulate(float[] x, int count, RowReduction reduction, float[] partials) {
        FloatVector acc = FloatVector.fromArray(FLOATS, partials, 0);
        int i = 0;
        for (int end = FLOATS.loopBound(count); i < end; i += FLOATS.length()) {
            FloatVector v = FloatVector.fromArray(FLOATS, x, i);
            acc = switch (reduction) {
                case SUM -> acc.add(v);
                case MAX -> acc.lanewise(VectorOperators.MAX, v);
                case L2 -> v.fma(v, acc);
            };
        }
        acc.intoArray(partials, 0);
        for (int lane = 0; i < count; i++, lane++) {
            partials[lane] = RowKernels.fold(reduction, partials[lane], x[i]);
        }
    }
}
