package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.DType;

/**
 * Packs activations x[tokens, in] (row-major, F32, F16 or BF16) into the panels the sparse tiles read: tile by tile
 * of {@code T} tokens, {@code panel[(tile · paddedIn + column) · T + t] = x[tile · T + t][column]}, widened to fp32,
 * with zeros for the tokens past the last one and the columns past {@code in}. A stored weight value then meets T
 * consecutive floats, and a position in a ragged last group reads a zero instead of needing a bounds check.
 */
public final class TokenPanels {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private TokenPanels() {
    }

    /** Floats of the panels for {@code tokens} tokens of {@code paddedIn} columns in tiles of {@code tileTokens}. */
    public static int size(int tokens, int paddedIn, int tileTokens) {
        return Math.multiplyExact(Math.multiplyExact(tiles(tokens, tileTokens), paddedIn), tileTokens);
    }

    public static int tiles(int tokens, int tileTokens) {
        return (tokens + tileTokens - 1) / tileTokens;
    }

    /**
     * Packs tile {@code tile} of x into {@code panels} (laid out as {@link #size} describes). Writes every float of
     * the tile, padding included, so the array need not be cleared.
     */
    public static void pack(MemorySegment x, long byteOffset, DType dtype, int tokens, int in, int paddedIn,
                            int tileTokens, int tile, float[] panels) {
        int base = tile * paddedIn * tileTokens;
        int token0 = tile * tileTokens;
        int count = Math.min(tileTokens, tokens - token0);
        for (int t = 0; t < count; t++) {
            long row = byteOffset + (long) (token0 + t) * in * dtype.byteSize();
            int target = base + t;
            switch (dtype) {
                case F32 -> {
                    for (int k = 0; k < in; k++) {
                        panels[target + k * tileTokens] = x.get(F32, row + 4L * k);
                    }
                }
                case F16 -> {
                    for (int k = 0; k < in; k++) {
                        panels[target + k * tileTokens] = Float.float16ToFloat(x.get(U16, row + 2L * k));
                    }
                }
                case BF16 -> {
                    for (int k = 0; k < in; k++) {
                        panels[target + k * tileTokens] = Float.intBitsToFloat((x.get(U16, row + 2L * k) & 0xFFFF) << 16);
                    }
                }
                default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
            }
            for (int k = in; k < paddedIn; k++) {
                panels[target + k * tileTokens] = 0f;
            }
        }
        for (int k = 0; k < paddedIn; k++) {
            java.util.Arrays.fill(panels, base + k * tileTokens + count, base + (k + 1) * tileTokens, 0f);
        }
    }
}
