package org.lacuna.runtime.schedule;

import java.util.Map;
import org.lacuna.runtime.data.DType;

/**
 * An attention block (attention and the layers around it) on one ragged batch.
 *
 * @param batch      sequences
 * @param tokens     tokens over all sequences
 * @param maxLength  the longest sequence
 * @param keptTokens the most tokens the layer's token dropping keeps (tokens for a layer that drops none)
 */
public record AttentionStatistics(int batch, long tokens, int maxLength, long keptTokens, int heads, int headDim,
                                  boolean causal, DType dtype) implements LayerStatistics {
    public double keptRatio() {
        return tokens == 0 ? 1.0 : (double) keptTokens / tokens;
    }

    public boolean dropsTokens() {
        return keptTokens < tokens;
    }

    /**
     * The varying part of {@link #signature()} packed in a long (the layer's dtype, heads, head dim and causality are
     * fixed per layer): equal keys, equal signatures, so a layer can find its plan for a batch without formatting.
     */
    public long bucketKey() {
        return log2(LayerStatistics.sizeBucket(batch)) | log2(LayerStatistics.sizeBucket(maxLength)) << 8
                | log2(LayerStatistics.sizeBucket(tokens)) << 16 | Math.round(keptRatio() / 0.05) << 24;
    }

    private static long log2(long powerOfTwo) {
        return Long.numberOfTrailingZeros(powerOfTwo);
    }

    @Override
    public String kind() {
        return "attention";
    }

    @Override
    public String signature() {
        // Built without a formatter: every layer builds its signature when it plans a bucket (see FixedPoint).
        StringBuilder s = new StringBuilder(96).append("attention|").append(dtype).append('|').append(heads)
                .append('x').append(headDim).append("|causal=").append(causal).append("|batch<=")
                .append(LayerStatistics.sizeBucket(batch)).append("|length<=")
                .append(LayerStatistics.sizeBucket(maxLength)).append("|tokens<=")
                .append(LayerStatistics.sizeBucket(tokens)).append("|kept~");
        return FixedPoint.append(s, LayerStatistics.ratioBucket(keptRatio(), 0.05), 2).toString();
    }

    @Override
    public Map<String, Object> describe() {
        return LayerStatistics.described("batch", batch, "tokens", tokens, "maxLength", maxLength,
                "keptTokens", keptTokens, "keptRatio", keptRatio(), "heads", heads, "headDim", headDim,
                "causal", causal, "dtype", dtype.toString());
    }
}
