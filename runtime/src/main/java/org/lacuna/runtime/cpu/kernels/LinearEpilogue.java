package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.ops.Activation;

/**
 * The fused end of a linear layer: {@code y[t][row] = act(c[row][t] + bias[row])}, rounded once to y's type, for a
 * tile of accumulated results {@code c[row · T + t]} (the sparse tiles' layout) written into row-major y[tokens, out],
 * one contiguous run of output columns per token. The activation is {@link Epilogue}'s scalar one, on the
 * Vector API path too, so both paths give the same bits.
 */
public final class LinearEpilogue {
    private LinearEpilogue() {
    }

    /**
     * @param bias   fp32 [out], or null for none
     * @param rows   weight rows in c, starting at {@code row0}
     * @param tokens valid tokens of the tile, starting at {@code token0}; c's rows are {@code tileTokens} wide
     */
    public static void write(float[] c, int tileTokens, int row0, int rows, int token0, int tokens, float[] bias,
                             Activation activation, MemorySegment y, long byteOffset, DType dtype, int out) {
        float[] run = new float[rows];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                run[r] = c[r * tileTokens + t] + (bias == null ? 0f : bias[row0 + r]);
            }
            Epilogue.biasActivation(run, 0, rows, 1, rows, null, 0, activation);
            long first = (long) (token0 + t) * out + row0;
            HalfConversions.narrow(run, 0, rows, y, byteOffset + first * dtype.byteSize(), dtype);
        }
    }
}
