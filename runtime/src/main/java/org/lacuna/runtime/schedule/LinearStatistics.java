package org.lacuna.runtime.schedule;

import java.util.Map;
import org.lacuna.runtime.data.DType;

/**
 * A linear layer {@code y = x · Wᵀ + b} on one input.
 *
 * @param tokens       rows of x
 * @param density      fraction of non-zero weights
 * @param conformance  fraction of groups of 4 along {@code in} with at most 2 non-zeros (1 means 2:4)
 * @param blockDensity fraction of {@link #BLOCK}×{@link #BLOCK} weight blocks with a non-zero
 */
public record LinearStatistics(long tokens, int in, int out, DType dtype, double density, double conformance,
                               double blockDensity) implements LayerStatistics {
    /** The block edge of {@link #blockDensity}: a vector register of fp32 by a row panel. */
    public static final int BLOCK = 16;

    public boolean twoFourConformant() {
        return conformance == 1.0;
    }

    public long nonZeros() {
        return Math.round(density * in * (double) out);
    }

    /** These statistics for another token count (the weight's do not change). */
    public LinearStatistics withTokens(long newTokens) {
        return new LinearStatistics(newTokens, in, out, dtype, density, conformance, blockDensity);
    }

    /** Fraction of {@link #BLOCK}×{@link #BLOCK} blocks of the row-major [out, in] weight with any non-zero. */
    public static double blockDensity(float[] w, int out, int in) {
        int rowBlocks = (out + BLOCK - 1) / BLOCK;
        int colBlocks = (in + BLOCK - 1) / BLOCK;
        long occupied = 0;
        boolean[] seen = new boolean[colBlocks];
        for (int rb = 0; rb < rowBlocks; rb++) {
            java.util.Arrays.fill(seen, false);
            for (int r = rb * BLOCK; r < Math.min(out, (rb + 1) * BLOCK); r++) {
                int base = r * in;
                for (int c = 0; c < in; c++) {
                    if (w[base + c] != 0f) {
                        seen[c / BLOCK] = true;
                    }
                }
            }
            for (boolean s : seen) {
                occupied += s ? 1 : 0;
            }
        }
        return (double) occupied / ((long) rowBlocks * colBlocks);
    }

    @Override
    public String kind() {
        return "linear";
    }

    @Override
    public String signature() {
        // Built without a formatter: every layer builds its signature when it plans a bucket (see FixedPoint).
        StringBuilder s = new StringBuilder(64).append("linear|").append(dtype).append('|').append(in).append('x')
                .append(out).append("|tokens<=").append(LayerStatistics.sizeBucket(tokens)).append("|density~");
        FixedPoint.append(s, LayerStatistics.ratioBucket(density, 0.01), 2);
        return s.append("|2:4=").append(twoFourConformant()).toString();
    }

    @Override
    public Map<String, Object> describe() {
        return LayerStatistics.described("tokens", tokens, "in", in, "out", out, "dtype", dtype.toString(),
                "density", density, "twoFourConformance", conformance, "blockDensity", blockDensity);
    }
}
