package org.lacuna.api.onnx;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.layers.TransformerEncoderLayer;
import org.lacuna.api.onnx.GraphValues.Act;
import org.lacuna.api.onnx.GraphValues.Affine;
import org.lacuna.api.onnx.GraphValues.Embedding;
import org.lacuna.api.onnx.GraphValues.Gelu;
import org.lacuna.api.onnx.GraphValues.GraphInput;
import org.lacuna.api.onnx.GraphValues.Lookup;
import org.lacuna.api.onnx.GraphValues.Norm;
import org.lacuna.api.onnx.GraphValues.Positions;
import org.lacuna.api.onnx.GraphValues.Residual;
import org.lacuna.api.onnx.GraphValues.SelfAttention;
import org.lacuna.api.onnx.GraphValues.Value;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import org.lacuna.runtime.error.NotSupportedException;

/**
 * A BERT-family encoder read from an ONNX file: its embedding tables and per-layer weights in Lacuna's layout
 * (linear weights [out, in], QKV fused as Q rows, K rows, V rows), and the names of the graph inputs that feed it.
 * The structure is recognised from the graph ({@link EncoderGraphReader}), not from tensor names, so any post-norm
 * encoder exported the usual way loads whatever its depth, width, head count and head dim.
 *
 * @param wordEmbeddings     [vocabulary, hidden]
 * @param positionEmbeddings [maxPositions, hidden], indexed by 0 … length − 1
 * @param typeEmbeddings     [types, hidden], or null when the graph has no token-type input
 * @param inputIds           name of the graph input holding the token ids
 * @param tokenTypeIds       name of the token-type input, or null
 * @param attentionMask      name of the mask input, or null when the graph takes none
 */
public record OnnxEncoder(int vocabulary, int hidden, int heads, int maxPositions, float[] wordEmbeddings,
                          float[] positionEmbeddings, float[] typeEmbeddings, int types, float[] embeddingGamma,
                          float[] embeddingBeta, double embeddingEpsilon, List<Layer> layers, String inputIds,
                          String tokenTypeIds, String attentionMask) {
    private static final String CALL = "OnnxEncoder.read";

    /** One layer: its configuration (post-norm, F16) and weights as {@link TransformerEncoderLayer} takes them. */
    public record Layer(int ffnHidden, double epsilon, TransformerEncoderLayer.Weights weights) {
    }

    public int headDim() {
        return hidden / heads;
    }

    public int ffnHidden() {
        return layers.get(0).ffnHidden();
    }

    /** The model's sizes and graph input names, without its weights. */
    public Summary summary() {
        return new Summary(layers.size(), hidden, heads, headDim(), ffnHidden(), maxPositions, inputIds, tokenTypeIds,
                attentionMask);
    }

    /**
     * What a built encoder keeps of the model it came from: its sizes and graph input names. The weights themselves
     * (tens of MB on the heap) are let go once they are on the backend.
     */
    public record Summary(int layers, int hidden, int heads, int headDim, int ffnHidden, int maxPositions,
                          String inputIds, String tokenTypeIds, String attentionMask) {
    }

    public static OnnxEncoder read(Path file) {
        return fromModel(OnnxFile.read(file), file.toString());
    }

    public static OnnxEncoder read(InputStream in, String source) {
        return fromModel(OnnxFile.read(in, source), source);
    }

    static OnnxEncoder fromModel(ModelProto model, String source) {
        GraphProto graph = model.getGraph();
        if (graph.getOutputCount() == 0) {
            throw new NotSupportedException(CALL, source + ": the graph has no outputs");
        }
        String output = graph.getOutputList().stream().map(o -> o.getName())
                .filter(n -> n.equals("last_hidden_state") || n.equals("token_embeddings")).findFirst()
                .orElse(graph.getOutput(0).getName());
        Value result = new EncoderGraphReader(graph, source).evaluate(output);
        if (!(result instanceof Act top)) {
            throw new NotSupportedException(CALL, source + ": output '" + output + "' is " + result.describe()
                    + ", not the hidden states of an encoder");
        }
        return new StructureReader(source).read(top);
    }

    /** Walks from the last hidden state down to the embeddings, one post-norm layer at a time. */
    private record StructureReader(String source) {
        OnnxEncoder read(Act top) {
            List<Layer> layers = new ArrayList<>();
            int heads = -1;
            String mask = null;
            Act x = top;
            while (true) {
                Norm outNorm = expect(x, Norm.class, "the layer's output LayerNorm");
                if (outNorm.x() instanceof Embedding) {
                    break;
                }
                Residual outSum = expect(outNorm.x(), Residual.class, "the FFN's residual add");
                Affine fc2 = residualBranch(outSum, Affine.class);
                Act h = other(outSum, fc2);
                Gelu gelu = expect(fc2.x(), Gelu.class, "the GELU between the FFN's two linear layers");
                Affine fc1 = expect(gelu.x(), Affine.class, "the FFN's first linear layer");
                same(fc1.x(), h, fc1, "the FFN's input is not the residual it is added to");
                Norm attnNorm = expect(h, Norm.class, "the attention block's LayerNorm");
                Residual attnSum = expect(attnNorm.x(), Residual.class, "the attention's residual add");
                Affine proj = residualBranch(attnSum, Affine.class);
                Act in = other(attnSum, proj);
                SelfAttention attention = expect(proj.x(), SelfAttention.class, "the attention before its output "
                        + "projection");
                for (Affine p : List.of(attention.q(), attention.k(), attention.v())) {
                    same(p.x(), in, p, "the Q/K/V projections do not read the layer's input");
                }
                double expectedScale = 1 / Math.sqrt(attention.headDim());
                if (Math.abs(attention.scale() - expectedScale) > 1e-5 * expectedScale) {
                    throw new NotSupportedException(CALL, source + ": attention at " + attention.node() + " scales by "
                            + attention.scale() + ", not 1/√headDim = " + expectedScale);
                }
                if (heads != -1 && attention.heads() != heads) {
                    throw new NotSupportedException(CALL, source + ": layers with different head counts ("
                            + attention.heads() + " and " + heads + ")");
                }
                heads = attention.heads();
                if (attention.mask() != null) {
                    mask = attention.mask().name();
                }
                layers.addFirst(layer(attention, proj, attnNorm, fc1, fc2, outNorm));
                x = in;
            }
            if (layers.isEmpty()) {
                throw new NotSupportedException(CALL, source + ": the graph holds embeddings but no encoder layer");
            }
            return embeddings((Norm) x, heads, layers, mask);
        }

        private Layer layer(SelfAttention a, Affine proj, Norm attnNorm, Affine fc1, Affine fc2, Norm outNorm) {
            int h = a.width();
            float[] qkv = new float[3 * h * h];
            float[] qkvBias = new float[3 * h];
            int part = 0;
            for (Affine p : List.of(a.q(), a.k(), a.v())) {
                if (p.in() != h || p.out() != h) {
                    throw new NotSupportedException(CALL, source + ": projection " + p.node() + " is " + p.in() + "→"
                            + p.out() + " in a " + h + "-wide attention");
                }
                System.arraycopy(lacunaWeight(p), 0, qkv, part * h * h, h * h);
                System.arraycopy(bias(p), 0, qkvBias, part * h, h);
                part++;
            }
            var weights = new TransformerEncoderLayer.Weights(attnNorm.gamma(), attnNorm.beta(), qkv, qkvBias,
                    lacunaWeight(proj), bias(proj), outNorm.gamma(), outNorm.beta(), lacunaWeight(fc1), bias(fc1),
                    lacunaWeight(fc2), bias(fc2));
            if (attnNorm.epsilon() != outNorm.epsilon()) {
                throw new NotSupportedException(CALL, source + ": the layer's two LayerNorms differ in epsilon ("
                        + attnNorm.node() + ", " + outNorm.node() + ")");
            }
            if (fc2.in() != fc1.out() || fc2.out() != h || fc1.in() != h) {
                throw new NotSupportedException(CALL, source + ": FFN " + fc1.in() + "→" + fc1.out() + "→" + fc2.out()
                        + " in a " + h + "-wide layer");
            }
            return new Layer(fc1.out(), attnNorm.epsilon(), weights);
        }

        private OnnxEncoder embeddings(Norm norm, int heads, List<Layer> layers, String mask) {
            Embedding e = (Embedding) norm.x();
            Lookup word = null;
            Lookup position = null;
            Lookup type = null;
            String typeName = null;
            for (Lookup l : e.lookups()) {
                if (l.index() instanceof Positions) {
                    position = l;
                } else if (word == null || l.rows() > word.rows()) {
                    // The larger of the two id-indexed tables is the vocabulary; the smaller the token types.
                    if (word != null) {
                        type = word;
                    }
                    word = l;
                } else {
                    type = l;
                }
            }
            if (word == null || position == null || e.lookups().size() > 3) {
                throw new NotSupportedException(CALL, source + ": embeddings at " + e.node() + " are not word + "
                        + "position (+ token type) lookups");
            }
            if (type != null) {
                typeName = ((GraphInput) type.index()).name();
            }
            String idsName = ((GraphInput) word.index()).name();
            return new OnnxEncoder(word.rows(), e.width(), heads, position.rows(), word.table(), position.table(),
                    type == null ? null : type.table(), type == null ? 0 : type.rows(), norm.gamma(), norm.beta(),
                    norm.epsilon(), List.copyOf(layers), idsName, typeName, mask);
        }

        private float[] lacunaWeight(Affine a) {
            return EncoderGraphReader.transposed(a.weight(), a.in(), a.out());
        }

        private static float[] bias(Affine a) {
            return a.bias() == null ? new float[a.out()] : a.bias();
        }

        private <T extends Act> T residualBranch(Residual sum, Class<T> type) {
            if (type.isInstance(sum.a())) {
                return type.cast(sum.a());
            }
            if (type.isInstance(sum.b())) {
                return type.cast(sum.b());
            }
            throw new NotSupportedException(CALL, source + ": residual add " + sum.node() + " adds "
                    + sum.a().describe() + " and " + sum.b().describe() + ", neither of which is a linear layer");
        }

        private static Act other(Residual sum, Act branch) {
            return sum.a() == branch ? sum.b() : sum.a();
        }

        private <T extends Act> T expect(Act x, Class<T> type, String what) {
            if (type.isInstance(x)) {
                return type.cast(x);
            }
            throw new NotSupportedException(CALL, source + ": expected " + what + " at node " + x.node() + ", found "
                    + x.describe() + " (is this a post-norm BERT-family encoder?)");
        }

        private void same(Act actual, Act expected, Act at, String problem) {
            if (actual != expected) {
                throw new NotSupportedException(CALL, source + ": at node " + at.node() + ": " + problem);
            }
        }
    }
}
