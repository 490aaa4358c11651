package org.lacuna.api.onnx;

import java.util.List;

/**
 * What each value of an encoder graph is, as {@link EncoderGraphReader} learns it node by node: constants and shape
 * arithmetic (folded as they go), the graph's integer inputs, and the activations of a BERT-family encoder with the
 * partial results of the patterns that build them (a decomposed LayerNorm, the Erf form of GELU, the head split of
 * attention). Identity matters: {@code Sub(x, ReduceMean(x))} is a LayerNorm step only when both are the same x.
 */
final class GraphValues {
    private GraphValues() {
    }

    sealed interface Value permits FloatConst, IntConst, Dims, GraphInput, Positions, MaskStep, Act, NormStep,
            GeluStep, Heads, Scores, Context {
        /** A few words for error messages. */
        String describe();
    }

    /** A constant float tensor (initializer, Constant node, or folded). */
    record FloatConst(float[] values, long[] dims) implements Value {
        boolean isScalar() {
            return values.length == 1;
        }

        public String describe() {
            return "float constant " + java.util.Arrays.toString(dims);
        }
    }

    /** A constant integer tensor. */
    record IntConst(long[] values, long[] dims) implements Value {
        public String describe() {
            return "integer constant " + java.util.Arrays.toString(dims);
        }
    }

    /** One dimension of a runtime shape: the batch size, the sequence length, or a constant. */
    record Dim(String symbol, long value) {
        static final Dim BATCH = new Dim("batch", -1);
        static final Dim SEQUENCE = new Dim("sequence", -1);

        static Dim of(long value) {
            return new Dim(null, value);
        }

        boolean isConstant() {
            return symbol == null;
        }

        @Override
        public String toString() {
            return symbol == null ? Long.toString(value) : symbol;
        }
    }

    /** An int64 shape vector (or, when {@code scalar}, one element of it) computed from Shape, Gather and Concat. */
    record Dims(List<Dim> dims, boolean scalar) implements Value {
        public String describe() {
            return "shape " + dims;
        }
    }

    /** One of the graph's integer inputs, [batch, sequence]. */
    record GraphInput(String name) implements Value {
        public String describe() {
            return "graph input '" + name + "'";
        }
    }

    /** The position ids 0..sequence-1 (a slice of the model's position-id buffer). */
    record Positions() implements Value {
        public String describe() {
            return "position ids";
        }
    }

    /**
     * The attention mask on its way to an additive bias: {@code layout} is its current shape in batch/sequence/1
     * terms, {@code inverted} after {@code 1 − mask}, {@code bias} after the multiplication by a large negative number.
     */
    record MaskStep(GraphInput mask, List<String> layout, boolean inverted, boolean bias) implements Value {
        public String describe() {
            return (bias ? "attention-mask bias " : "attention mask ") + layout;
        }
    }

    /** An activation [batch, sequence, width] and what computed it. */
    sealed interface Act extends Value permits Embedding, Norm, Affine, Gelu, Residual, SelfAttention {
        int width();

        /** The node that produced it, for error messages. */
        String node();
    }

    /** Sum of embedding-table lookups, each a table [rows, width] indexed by a graph input or the positions. */
    record Embedding(List<Lookup> lookups, int width, String node) implements Act {
        public String describe() {
            return "sum of " + lookups.size() + " embedding lookups";
        }
    }

    record Lookup(float[] table, int rows, int width, Value index) {
    }

    record Norm(Act x, float[] gamma, float[] beta, double epsilon, String node) implements Act {
        public int width() {
            return x.width();
        }

        public String describe() {
            return "layer norm";
        }
    }

    /** {@code x · w + bias}, w as ONNX's MatMul holds it: [in, out] row-major; bias null until its Add. */
    record Affine(Act x, float[] weight, int in, int out, float[] bias, String node) implements Act {
        public int width() {
            return out;
        }

        public String describe() {
            return "linear " + in + "→" + out + (bias == null ? " without bias" : "");
        }
    }

    record Gelu(Act x, String node) implements Act {
        public int width() {
            return x.width();
        }

        public String describe() {
            return "GELU";
        }
    }

    record Residual(Act a, Act b, String node) implements Act {
        public int width() {
            return a.width();
        }

        public String describe() {
            return "sum of two activations";
        }
    }

    /** Multi-head attention with its heads merged back to [batch, sequence, heads·headDim]. */
    record SelfAttention(Affine q, Affine k, Affine v, int heads, int headDim, double scale, GraphInput mask,
                         String node) implements Act {
        public int width() {
            return heads * headDim;
        }

        public String describe() {
            return "self-attention " + heads + "×" + headDim;
        }
    }

    /** The steps of a LayerNorm written out as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add. */
    enum NormStage { MEAN, CENTERED, SQUARED, VARIANCE, VARIANCE_EPS, STD, NORMALIZED, SCALED }

    record NormStep(Act x, NormStage stage, double epsilon, float[] gamma) implements Value {
        public String describe() {
            return "layer-norm step " + stage;
        }
    }

    /** The steps of GELU's Erf form: x/√2 → erf → +1 → ·x → ·0.5 (or 0.5·x first). */
    enum GeluStage { OVER_ROOT2, ERF, ONE_PLUS_ERF, X_TIMES, HALF_X }

    record GeluStep(Act x, GeluStage stage) implements Value {
        public String describe() {
            return "GELU step " + stage;
        }
    }

    /**
     * A projection split into heads: {@code SPLIT} [b, s, heads, headDim], {@code BHSD} after perm (0,2,1,3) (queries,
     * values), {@code BHDS} after perm (0,2,3,1) (keys, transposed for Q·Kᵀ), {@code MERGING} the context back at
     * [b, s, heads, headDim] after perm (0,2,1,3).
     */
    enum HeadLayout { SPLIT, BHSD, BHDS }

    record Heads(Affine projection, int heads, int headDim, HeadLayout layout) implements Value {
        public String describe() {
            return heads + " heads of " + headDim + " (" + layout + ")";
        }
    }

    /** {@code Q·Kᵀ} per head, then scaled, masked (by the named input, or null), and soft-maxed. */
    record Scores(Affine q, Affine k, int heads, int headDim, double scale, GraphInput mask, boolean softmax)
            implements Value {
        public String describe() {
            return softmax ? "attention probabilities" : "attention scores";
        }
    }

    /** Probabilities · V per head, [b, heads, s, headDim], or [b, s, heads, headDim] once {@code transposed}. */
    record Context(Scores probabilities, Affine v, boolean transposed) implements Value {
        public String describe() {
            return "attention context" + (transposed ? " (transposed back)" : "");
        }
    }
}
