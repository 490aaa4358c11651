package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/**
 * The per-block steps of the elementwise ops on float[] blocks: widen storage, add bias and activate, narrow back,
 * and reduce a row into per-lane partial results. Two implementations: {@link #scalar()} (plain Java) and
 * {@link VectorRowKernels#create()} (jdk.incubator.vector; only loaded where the module is present). Results depend
 * only on the data, never on how the caller split rows among threads.
 */
public interface RowKernels {
    /** The plain Java kernels. */
    static RowKernels scalar() {
        return ScalarRowKernels.INSTANCE;
    }

    void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int count);

    void narrow(float[] src, int count, MemorySegment dst, long byteOffset, DType dtype);

    /**
     * {@code x[i] = act(x[i] + bias[biasOffset + i])} for i in [0, count); bias may be null. The GEMM epilogue's
     * arithmetic ({@link Epilogue}), so an unfused bias + activation gives the bits a fused one does.
     */
    void biasActivation(float[] x, int count, float[] bias, int biasOffset, Activation activation);

    /** How many partial results {@link #accumulate} keeps per row. */
    int partials();

    /**
     * Folds {@code x[0, count)} into {@code partials} (length {@link #partials()}, started at
     * {@link #identity(RowReduction)}). Consecutive blocks of one row must have lengths that are multiples of
     * {@link #partials()}, except the row's last.
     */
    void accumulate(float[] x, int count, RowReduction reduction, float[] partials);

    /** The row's result: the partials combined in lane order (and the square root taken for L2). */
    static float finish(float[] partials, RowReduction reduction) {
        float acc = partials[0];
        for (int i = 1; i < partials.length; i++) {
            acc = reduction == RowReduction.MAX ? Math.max(acc, partials[i]) : acc + partials[i];
        }
        return reduction == RowReduction.L2 ? (float) Math.sqrt(acc) : acc;
    }

    /** The starting value of every partial. */
    static float identity(RowReduction reduction) {
        return reduction == RowReduction.MAX ? Float.NEGATIVE_INFINITY : 0f;
    }
}
