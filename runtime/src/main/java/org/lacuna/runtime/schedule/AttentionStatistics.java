package org.lacuna.runtime.schedule;

import java.util.LinkedHashMap;
import java.util.Locale;
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
        return String.format(Locale.ROOT, "attention|%s|%dx%d|causal=%b|batch<=%d|length<=%d|tokens<=%d|kept~%.2f",
                dtype, heads, headDim, causal, LayerStatistics.sizeBucket(batch),
                LayerStatistics.sizeBucket(maxLength), LayerStatistics.sizeBucket(tokens),
                LayerStatistics.ratioBucket(keptRatio(), 0.05));
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", batch);
        m.put("tokens", tokens);
        m.put("maxLength", maxLength);
        m.put("keptTokens", keptTokens);
        m.put("keptRatio", keptRatio());
        m.put("heads", heads);
        m.put("headDim", headDim);
        m.put("causal", causal);
        m.put("dtype", dtype.toString());
        return m;
    }
}
