package org.lacuna.bench.gpu;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.lacuna.bench.Params;
import org.lacuna.runtime.data.DType;

/**
 * One problem of the 2:4 sparse GEMM sweep: Y[tokens, out] = X[tokens, in] · W[out, in]ᵀ in {@code dtype}.
 * The {@code id} is what the run record matches PyTorch's timings of the same problem by
 * ({@code bench/anchors/two_four_gemm_anchor.py} builds the same ids).
 *
 * @param model a model whose layer this is ({@code bert-base}, {@code llama-7b}...), or {@code square} / {@code custom}
 * @param layer the layer within the model ({@code ffn-up}...), or {@code square} / {@code custom}
 */
public record TwoFourGemmCase(String id, String model, String layer, int tokens, int out, int in, DType dtype) {
    public TwoFourGemmCase {
        Objects.requireNonNull(id, "id");
        if (tokens <= 0 || out <= 0 || in <= 0) {
            throw new IllegalArgumentException("a case needs positive sizes, got " + tokens + "x" + out + "x" + in);
        }
        if (dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("the sparse tensor cores take f16 or bf16, not " + dtype);
        }
    }

    static TwoFourGemmCase square(int n, DType dtype) {
        return new TwoFourGemmCase("square-" + n + "-" + dtype.kernelName(), "square", "square", n, n, n, dtype);
    }

    static TwoFourGemmCase layer(String model, String layer, int out, int in, int tokens, DType dtype) {
        return new TwoFourGemmCase(String.format(Locale.ROOT, "%s-%s-%dx%d-t%d-%s", model, layer, out, in, tokens,
                dtype.kernelName()), model, layer, tokens, out, in, dtype);
    }

    static TwoFourGemmCase custom(int tokens, int out, int in, DType dtype) {
        return new TwoFourGemmCase(String.format(Locale.ROOT, "custom-%dx%d-t%d-%s", out, in, tokens,
                dtype.kernelName()), "custom", "custom", tokens, out, in, dtype);
    }

    /** Dense-equivalent FLOPs, 2·tokens·out·in: the 2:4 kernel's rate is then directly comparable with dense. */
    public long flops() {
        return 2L * tokens * out * in;
    }

    /** X and Y, which every implementation reads and writes once. */
    public long activationBytes() {
        return (long) dtype.byteSize() * ((long) tokens * in + (long) tokens * out);
    }

    /** What cuBLAS moves at least once: X, the dense W and Y. */
    public long denseBytes() {
        return activationBytes() + (long) dtype.byteSize() * out * in;
    }

    /** The same problem in the report's terms; PyTorch's rows carry the same keys and values. */
    public Map<String, Object> params() {
        return Params.of("case", id, "model", model, "layer", layer, "tokens", tokens, "out", out, "in", in,
                "dtype", dtype.kernelName());
    }
}
