package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/**
 * {@link RowKernels} on the Vector API. Row reductions keep one partial per lane and fold a ragged tail into the
 * lanes in order, so the result depends on the row alone. Uses jdk.incubator.vector: obtain it through
 * {@link #create()} only where the module is present.
 */
public final class VectorRowKernels implements RowKernels {
    private static final VectorSpecies<Float> FLOATS = VectorHalfConversions.FLOATS;

    private VectorRowKernels() {
    }

    /** Typed as the interface so that callers' bytecode never names this class's Vector API types. */
    public static RowKernels create() {
        return new VectorRowKernels();
    }

    @Override
    public void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int count) {
        VectorHalfConversions.widen(src, byteOffset, dtype, dst, 0, count);
    }

    @Override
    public void narrow(float[] src, int count, MemorySegment dst, long byteOffset, DType dtype) {
        VectorHalfConversions.narrow(src, 0, count, dst, byteOffset, dtype);
    }

    @Override
    public void biasActivation(float[] x, int count, float[] bias, int biasOffset, Activation activation) {
        VectorEpilogue.biasActivation(x, 0, count, 1, count, bias, biasOffset, activation);
    }

    @Override
    public int partials() {
        return FLOATS.length();
    }

    @Override
    public void accumulate(float[] x, int count, RowReduction reduction, float[] partials) {
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
            float v = x[i];
            partials[lane] = switch (reduction) {
                case SUM -> partials[lane] + v;
                case MAX -> Math.max(partials[lane], v);
                case L2 -> Math.fma(v, v, partials[lane]);
            };
        }
    }
}
