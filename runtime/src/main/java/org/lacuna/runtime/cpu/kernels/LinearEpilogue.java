package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.DType;
import org.lacuna.runtime.HalfFloats;
import org.lacuna.runtime.ops.Activation;

/**
 * The fused end of a linear layer: {@code y[t][row] = act(c[row][t] + bias[row])}, rounded once to y's type, for a
 * tile of accumulated results {@code c[row · T + t]} (the sparse tiles' layout) written into row-major y[tokens, out].
 */
public final class LinearEpilogue {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private LinearEpilogue() {
    }

    /**
     * @param bias      fp32 [out], or null for none
     * @param rows      weight rows in c, starting at {@code row0}
     * @param tokens    valid tokens of the tile, starting at {@code token0}; c's rows are {@code tileTokens} wide
     */
    public static void write(float[] c, int tileTokens, int row0, int rows, int token0, int tokens, float[] bias,
                             Activation activation, MemorySegment y, long byteOffset, DType dtype, int out) {
        for (int r = 0; r < rows; r++) {
            int row = row0 + r;
            float add = bias == null ? 0f : bias[row];
            int from = r * tileTokens;
            for (int t = 0; t < tokens; t++) {
                float v = Fp32Activations.apply(activation, c[from + t] + add);
                long index = (long) (token0 + t) * out + row;
                switch (dtype) {
                    case F32 -> y.set(F32, byteOffset + 4 * index, v);
                    case F16 -> y.set(U16, byteOffset + 2 * index, Float.floatToFloat16(v));
                    case BF16 -> y.set(U16, byteOffset + 2 * index, HalfFloats.toBf16(v));
                    default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
                }
            }
        }
    }
}
