package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

/**
 * The per-block steps of the elementwise ops on float[] blocks: widen storage, add bias and activate, narrow back,
 * and reduce a row into per-lane partial results. Each step runs its Vector API form ({@link VectorHalfConversions},
 * {@link VectorEpilogue}, {@link VectorRowReduction}; only loaded where the module is present) or its plain Java
 * form, as {@link #of(boolean)} chose once. Results depend only on the data, never on how the caller split rows
 * among threads.
 */
public final class RowKernels {
    private static final RowKernels SCALAR = new RowKernels(false);
    private static final RowKernels VECTOR = new RowKernels(true);

    private final boolean vector;

    private RowKernels(boolean vector) {
        this.vector = vector;
    }

    /** The Vector API forms when {@code vectorApi} is true and the JVM has the module, the plain Java ones otherwise. */
    public static RowKernels of(boolean vectorApi) {
        return vectorApi && VectorModule.present() ? VECTOR : SCALAR;
    }

    public void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int count) {
        widen(src, byteOffset, dtype, dst, 0, count);
    }

    /** {@code count} values of {@code dtype} at byteOffset, widened to fp32 into {@code dst} from {@code dstOffset}. */
    public void widen(MemorySegment src, long byteOffset, DType dtype, float[] dst, int dstOffset, int count) {
        if (vector) {
            VectorHalfConversions.widen(src, byteOffset, dtype, dst, dstOffset, count);
        } else {
            HalfConversions.widen(src, byteOffset, dtype, dst, dstOffset, count);
        }
    }

    public void narrow(float[] src, int count, MemorySegment dst, long byteOffset, DType dtype) {
        narrow(src, 0, count, dst, byteOffset, dtype);
    }

    /** {@code count} fp32 values of {@code src} from {@code srcOffset}, written as {@code dtype} at byteOffset. */
    public void narrow(float[] src, int srcOffset, int count, MemorySegment dst, long byteOffset, DType dtype) {
        if (vector) {
            VectorHalfConversions.narrow(src, srcOffset, count, dst, byteOffset, dtype);
        } else {
            HalfConversions.narrow(src, srcOffset, count, dst, byteOffset, dtype);
        }
    }

    /**
     * {@code x[i] = act(x[i] + bias[biasOffset + i])} for i in [0, count); bias may be null. The GEMM epilogue's
     * arithmetic ({@link Epilogue}), so an unfused bias + activation gives the bits a fused one does.
     */
    public void biasActivation(float[] x, int count, float[] bias, int biasOffset, Activation activation) {
        if (vector) {
            VectorEpilogue.biasActivation(x, 0, count, 1, count, bias, biasOffset, activation);
        } else {
            Epilogue.biasActivation(x, 0, count, 1, count, bias, biasOffset, activation);
        }
    }

    /**
     * Partials of the plain Java form: as many as AVX-512's fp32 lanes, so it sums in the same order as the vector form
     * there (same bits), runs 16 independent chains instead of one dependent chain, and keeps fp32's rounding error
     * that of a 16-way split (one chain over a 4099-column row lost 1.1e-5 of an L2 norm, beyond what the
     * conformance suite allows).
     */
    static final int PLAIN_PARTIALS = 16;

    /** How many partial results {@link #accumulate} keeps per row: one per lane (element i folds into i mod this). */
    public int partials() {
        return vector ? VectorRowReduction.lanes() : PLAIN_PARTIALS;
    }

    /**
     * Folds {@code x[0, count)} into {@code partials} (length {@link #partials()}, started at
     * {@link #identity(RowReduction)}). Consecutive blocks of one row must have lengths that are multiples of
     * {@link #partials()}, except the row's last.
     */
    public void accumulate(float[] x, int count, RowReduction reduction, float[] partials) {
        if (vector) {
            VectorRowReduction.accumulate(x, count, reduction, partials);
            return;
        }
        for (int i = 0, lane = 0; i < count; i++) {
            partials[lane] = fold(reduction, partials[lane], x[i]);
            lane = lane + 1 == PLAIN_PARTIALS ? 0 : lane + 1;
        }
    }

    /** One element folded into one partial: the plain Java step, and the vector form's ragged tail. */
    static float fold(RowReduction reduction, float acc, float v) {
        return switch (reduction) {
            case SUM -> acc + v;
            case MAX -> Math.max(acc, v);
            case L2 -> Math.fma(v, v, acc);
        };
    }

    /** The row's result: the partials combined in lane order (and the square root taken for L2). */
    public static float finish(float[] partials, RowReduction reduction) {
        float acc = partials[0];
        for (int i = 1; i < partials.length; i++) {
            acc = reduction == RowReduction.MAX ? Math.max(acc, partials[i]) : acc + partials[i];
        }
        return reduction == RowReduction.L2 ? (float) Math.sqrt(acc) : acc;
    }

    /** The starting value of every partial. */
    public static float identity(RowReduction reduction) {
        return reduction == RowReduction.MAX ? Float.NEGATIVE_INFINITY : 0f;
    }
}
