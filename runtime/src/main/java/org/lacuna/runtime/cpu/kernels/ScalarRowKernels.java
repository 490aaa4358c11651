package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/** {@link RowKernels} in plain Java: what serves when the Vector API is off. */
final class ScalarRowKernels implements RowKernels {
    static final ScalarRowKernels INSTANCE = new ScalarRowKernels();

    private ScalarRowKernels() {
    }

    @Override
    public void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int count) {
        HalfConversions.widen(src, byteOffset, dtype, dst, 0, count);
    }

    @Override
    public void narrow(float[] src, int count, MemorySegment dst, long byteOffset, DType dtype) {
        HalfConversions.narrow(src, 0, count, dst, byteOffset, dtype);
    }

    @Override
    public void biasActivation(float[] x, int count, float[] bias, int biasOffset, Activation activation) {
        Epilogue.biasActivation(x, 0, count, 1, count, bias, biasOffset, activation);
    }

    @Override
    public int partials() {
        return 1;
    }

    @Override
    public void accumulate(float[] x, int count, RowReduction reduction, float[] partials) {
        float acc = partials[0];
        for (int i = 0; i < count; i++) {
            float v = x[i];
            acc = switch (reduction) {
                case SUM -> acc + v;
                case MAX -> Math.max(acc, v);
                case L2 -> Math.fma(v, v, acc);
            };
        }
        partials[0] = acc;
    }
}
