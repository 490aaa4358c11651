package org.lacuna.bench.cpu;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.lacuna.bench.Params;

/**
 * One problem of the side-by-side CPU benchmark: its id (shared with the anchors, which is how their timings are
 * paired with Lacuna's), its family, its parameters and the FLOPs one run of it does, counted from the problem.
 *
 * @param flops useful floating-point operations (a multiply-add counts 2); for a sparse case the dense-equivalent
 *              count of the same layer, so its rate compares directly with the dense one
 */
public record CpuCase(String id, Family family, Map<String, Object> params, long flops) {
    /** What a case measures, and so which side measures it and how it is compared. */
    public enum Family {
        DENSE_LINEAR, TWO_FOUR_LINEAR, CSR_LINEAR, ATTENTION, ATTENTION_KEPT, DROPPING_OVERHEAD, ENCODER, MINKUNET,
        TINY_OP
    }

    public CpuCase {
        params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
        if (flops < 0) {
            throw new IllegalArgumentException(id + ": negative FLOPs " + flops);
        }
    }

    public int intParam(String key) {
        Object v = params.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalStateException(id + " has no integer parameter '" + key + "'");
        }
        return n.intValue();
    }

    public double doubleParam(String key) {
        return ((Number) params.get(key)).doubleValue();
    }

    /** Y[tokens, out] = X[tokens, in] · W[out, in]ᵀ: 2·tokens·in·out. */
    public static long linearFlops(long tokens, long in, long out) {
        return 2 * tokens * in * out;
    }

    /** softmax(QKᵀ)V over {@code batch} sequences of {@code sequence} tokens: QKᵀ and PV, 2·S·S·D each per head. */
    public static long attentionFlops(long batch, long heads, long headDim, long sequence) {
        return 4 * batch * heads * sequence * sequence * headDim;
    }

    /**
     * A pre-norm transformer encoder's GEMMs and attention (norms, GELU and residuals are not counted): per token and
     * layer the QKV (3h²), output (h²) and FFN (2·h·f) projections at 2 FLOPs a multiply-add, and attention's 4·S·h.
     */
    public static long encoderFlops(long layers, long hidden, long ffn, long sequence, long batch) {
        long perToken = 2 * (4 * hidden * hidden + 2 * hidden * ffn) + 4 * sequence * hidden;
        return layers * batch * sequence * perToken;
    }

    static CpuCase denseLinear(int tokens, int in, int out) {
        return linear("dense", Family.DENSE_LINEAR, tokens, in, out, "f32", Map.of());
    }

    static CpuCase twoFourLinear(int tokens, int in, int out) {
        return linear("twofour", Family.TWO_FOUR_LINEAR, tokens, in, out, "f16", Map.of());
    }

    static CpuCase csrLinear(int tokens, int in, int out, double density) {
        return new CpuCase(String.format(Locale.ROOT, "csr-d%.2f-%dx%dx%d", density, tokens, in, out),
                Family.CSR_LINEAR, linearParams(tokens, in, out, "f32", Map.of("density", density)),
                linearFlops(tokens, in, out));
    }

    private static CpuCase linear(String prefix, Family family, int tokens, int in, int out, String dtype,
                                  Map<String, Object> extra) {
        return new CpuCase(prefix + "-" + tokens + "x" + in + "x" + out, family,
                linearParams(tokens, in, out, dtype, extra), linearFlops(tokens, in, out));
    }

    private static Map<String, Object> linearParams(int tokens, int in, int out, String dtype,
                                                    Map<String, Object> extra) {
        Map<String, Object> p = Params.of("tokens", tokens, "in", in, "out", out, "dtype", dtype);
        p.putAll(extra);
        return p;
    }

    /** Dense attention over every token; Lacuna stores Q, K, V in f16 (widened to f32 in registers). */
    static CpuCase attention(int heads, int headDim, int batch, int sequence) {
        return new CpuCase(attentionId(heads, headDim, batch, sequence), Family.ATTENTION,
                attentionParams(heads, headDim, batch, sequence, 1.0), attentionFlops(batch, heads, headDim, sequence));
    }

    /** The same attention over the tokens a keep ratio leaves (CLS pinned): FLOPs at the kept length. */
    static CpuCase attentionKept(int heads, int headDim, int batch, int sequence, double keep, int keptPerSequence) {
        Map<String, Object> p = attentionParams(heads, headDim, batch, sequence, keep);
        p.put("keptPerSequence", keptPerSequence);
        return new CpuCase(attentionId(heads, headDim, batch, sequence) + "-kept" + keep, Family.ATTENTION_KEPT, p,
                attentionFlops(batch, heads, headDim, keptPerSequence));
    }

    /** What dropping adds: L2 scores, selection, gather of Q/K/V, scatter with pass-through (bytes, no FLOPs). */
    static CpuCase droppingOverhead(int heads, int headDim, int batch, int sequence, double keep) {
        Map<String, Object> p = attentionParams(heads, headDim, batch, sequence, keep);
        p.put("steps", "rowReduce L2 + selectTokens + gatherRows(qkv) + scatterRows(out, pass x)");
        return new CpuCase(attentionId(heads, headDim, batch, sequence) + "-overhead" + keep,
                Family.DROPPING_OVERHEAD, p, 0);
    }

    static String attentionId(int heads, int headDim, int batch, int sequence) {
        return "attn-h" + heads + "d" + headDim + "-b" + batch + "-s" + sequence;
    }

    private static Map<String, Object> attentionParams(int heads, int headDim, int batch, int sequence, double keep) {
        return Params.of("heads", heads, "headDim", headDim, "batch", batch, "sequence", sequence, "keepRatio", keep);
    }

    static CpuCase encoder(int layers, int hidden, int heads, int ffn, int sequence, int batch) {
        Map<String, Object> p = Params.of("layers", layers, "hidden", hidden, "heads", heads, "ffn", ffn,
                "sequence", sequence, "batch", batch);
        return new CpuCase("encoder-l" + layers + "h" + hidden + "-s" + sequence + "-b" + batch, Family.ENCODER, p,
                encoderFlops(layers, hidden, ffn, sequence, batch));
    }

    /** MinkUNet end to end; the FLOPs (useful ones, 2·pairs·in·out) are known once the maps are built. */
    static CpuCase minkunet(int batch, String source, long flops) {
        Map<String, Object> p = Params.of("batch", batch, "source", source, "dtype", "f32");
        // The id is the sparse-conv anchor's (SparseConvBenchmark.endToEndCase), so its timing pairs with this row.
        return new CpuCase("minkunet-b" + batch + "-end-to-end", Family.MINKUNET, p, flops);
    }

    static CpuCase tinyOp(int tokens, int in, int out) {
        return linear("tiny-linear", Family.TINY_OP, tokens, in, out, "f32", Map.of());
    }
}
