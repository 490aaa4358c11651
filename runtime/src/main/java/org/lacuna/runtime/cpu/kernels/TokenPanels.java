package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.DType;

/**
 * Packs activations x[tokens, in] (row-major, F32, F16 or BF16) into the panels the sparse tiles read: tile by tile
 * of {@code T} tokens, {@code panel[(tile · paddedIn + column) · T + t] = x[tile · T + t][column]}, widened to fp32,
 * with zeros for the tokens past the last one and the columns past {@code in}. A stored weight value then meets T
 * consecutive floats, and a position in a ragged last group reads a zero instead of needing a bounds check.
 */
public final class TokenPanels {
    private static final ValueLayout.OfFloat PANEL = ValueLayout.JAVA_FLOAT;

    private TokenPanels() {
    }

    /** Floats of the panels for {@code tokens} tokens of {@code paddedIn} columns in tiles of {@code tileTokens}. */
    public static long size(int tokens, int paddedIn, int tileTokens) {
        return (long) tiles(tokens, tileTokens) * paddedIn * tileTokens;
    }

    public static int tiles(int tokens, int tileTokens) {
        return (tokens + tileTokens - 1) / tileTokens;
    }

    /** The float index where tile {@code tile} starts. */
    public static long offset(int tile, int paddedIn, int tileTokens) {
        return (long) tile * paddedIn * tileTokens;
    }

    /**
     * Packs tile {@code tile} of x into {@code panels} (laid out as {@link #size} describes). Writes every float of
     * the tile, padding included, so the panels may be reused without clearing.
     */
    public static void pack(MemorySegment x, long byteOffset, DType dtype, int tokens, int in, int paddedIn,
                            int tileTokens, int tile, MemorySegment panels) {
        long base = offset(tile, paddedIn, tileTokens);
        int token0 = tile * tileTokens;
        int count = Math.min(tileTokens, tokens - token0);
        float[] row = new float[in];
        for (int t = 0; t < count; t++) {
            long source = byteOffset + (long) (token0 + t) * in * dtype.byteSize();
            HalfConversions.widen(x, source, dtype, row, 0, in);
            long target = base + t;
            for (int k = 0; k < in; k++) {
                panels.setAtIndex(PANEL, target + (long) k * tileTokens, row[k]);
            }
            for (int k = in; k < paddedIn; k++) {
                panels.setAtIndex(PANEL, target + (long) k * tileTokens, 0f);
            }
        }
        if (count < tileTokens) {
            for (int k = 0; k < paddedIn; k++) {
                long from = base + (long) k * tileTokens;
                panels.asSlice(4 * (from + count), 4L * (tileTokens - count)).fill((byte) 0);
            }
        }
    }
}
