package org.lacuna.api.onnx;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

/**
 * Writes a small random BERT encoder as ONNX with the node patterns of PyTorch's export (opset 17): Shape/Gather/
 * Unsqueeze position ids sliced from a buffer, the attention-mask bias chain, MatMul + Add projections, Reshape and
 * Transpose head split, Div-scaled masked Softmax attention, Erf GELU; LayerNorm decomposed in the embeddings and as
 * LayerNormalization in the layers (exports use either). Reshape targets are constants with 0 (copy) entries.
 */
final class SyntheticEncoderOnnx {
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("synthetic-bert");
    private final SplittableRandom random;
    private int counter;

    private SyntheticEncoderOnnx(long seed) {
        random = new SplittableRandom(seed);
    }

    static ModelProto build(int vocabulary, int hidden, int heads, int ffn, int layers, int maxPositions, long seed) {
        return new SyntheticEncoderOnnx(seed).model(vocabulary, hidden, heads, ffn, layers, maxPositions);
    }

    private ModelProto model(int vocabulary, int hidden, int heads, int ffn, int layers, int maxPositions) {
        for (String input : new String[] {"input_ids", "attention_mask", "token_type_ids"}) {
            graph.addInput(intInput(input));
        }
        long[] positions = new long[maxPositions];
        for (int i = 0; i < maxPositions; i++) {
            positions[i] = i;
        }
        graph.addInitializer(longs("position_ids", positions, 1, maxPositions));
        // Mask bias [b, 1, 1, s]: (1 − mask) · −10000.
        String m1 = op("Unsqueeze", "attention_mask", vectorLong(1));
        String m2 = op("Unsqueeze", m1, vectorLong(2));
        String m3 = node("Cast", m2, AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                .setI(TensorProto.DataType.FLOAT_VALUE).build());
        String inverted = binary("Sub", scalar(1f), m3);
        String maskBias = binary("Mul", inverted, scalar(-10000f));
        // Position ids: position_ids[:, 0:sequence].
        String shape = node("Shape", "input_ids");
        String seq = binary("Gather", shape, scalarLong(1));
        String seqEnd = op("Unsqueeze", seq, vectorLong(0));
        String positionIds = op("Slice", "position_ids", vectorLong(0), seqEnd, vectorLong(1), vectorLong(1));
        String word = binary("Gather", floats("word", vocabulary, hidden, 1.0), "input_ids");
        String type = binary("Gather", floats("type", 2, hidden, 0.5), "token_type_ids");
        String sum = binary("Add", word, type);
        String position = binary("Gather", floats("position", maxPositions, hidden, 0.5), positionIds);
        String x = decomposedLayerNorm(binary("Add", sum, position), hidden);
        int headDim = hidden / heads;
        for (int l = 0; l < layers; l++) {
            String q = linear(x, hidden, hidden);
            String k = linear(x, hidden, hidden);
            String v = linear(x, hidden, hidden);
            String qh = node("Transpose", op("Reshape", q, vectorLong(0, 0, heads, headDim)), ints("perm", 0, 2, 1, 3));
            String kh = node("Transpose", op("Reshape", k, vectorLong(0, 0, heads, headDim)), ints("perm", 0, 2, 3, 1));
            String vh = node("Transpose", op("Reshape", v, vectorLong(0, 0, heads, headDim)), ints("perm", 0, 2, 1, 3));
            String scores = binary("Div", binary("MatMul", qh, kh), scalar((float) Math.sqrt(headDim)));
            String probabilities = node("Softmax", binary("Add", scores, maskBias), ints1("axis", 3));
            String context = node("Transpose", binary("MatMul", probabilities, vh), ints("perm", 0, 2, 1, 3));
            String merged = op("Reshape", context, vectorLong(0, 0, hidden));
            String h = layerNormalization(binary("Add", linear(merged, hidden, hidden), x), hidden);
            String f1 = linear(h, hidden, ffn);
            String erf = node("Erf", binary("Div", f1, scalar((float) Math.sqrt(2))));
            String gelu = binary("Mul", binary("Mul", f1, binary("Add", erf, scalar(1f))), scalar(0.5f));
            x = layerNormalization(binary("Add", linear(gelu, ffn, hidden), h), hidden);
        }
        graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName("/output").addInput(x)
                .addOutput("last_hidden_state"));
        graph.addOutput(ValueInfoProto.newBuilder().setName("last_hidden_state").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(shape("batch", "sequence", "hidden")))));
        return ModelProto.newBuilder().setIrVersion(7).setProducerName("lacuna-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(graph).build();
    }

    private String linear(String x, int in, int out) {
        String w = floats("w", in, out, 1 / Math.sqrt(in));
        String b = floats("b", out, 0, 0.05);
        return binary("Add", b, binary("MatMul", x, w));
    }

    private String decomposedLayerNorm(String x, int hidden) {
        String mean = node("ReduceMean", x, ints("axes", -1));
        String centered = binary("Sub", x, mean);
        String variance = node("ReduceMean", binary("Pow", centered, scalar(2f)), ints("axes", -1));
        String std = node("Sqrt", binary("Add", variance, scalar(1e-12f)));
        String normalized = binary("Div", centered, std);
        return binary("Add", binary("Mul", normalized, around("gamma", hidden, 1)), around("beta", hidden, 0));
    }

    private String layerNormalization(String x, int hidden) {
        String out = "t" + counter++;
        graph.addNode(NodeProto.newBuilder().setOpType("LayerNormalization").setName("/ln" + counter).addInput(x)
                .addInput(around("gamma", hidden, 1)).addInput(around("beta", hidden, 0)).addOutput(out)
                .addAttribute(AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT)
                        .setF(1e-12f))
                .addAttribute(ints1("axis", -1)));
        return out;
    }

    private String node(String op, String input, AttributeProto... attributes) {
        String out = "t" + counter++;
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("/" + op + "_" + counter).addInput(input)
                .addOutput(out);
        for (AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        graph.addNode(n);
        return out;
    }

    private String binary(String op, String a, String b) {
        return op(op, a, b);
    }

    private String op(String op, String... inputs) {
        String out = "t" + counter++;
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("/" + op + "_" + counter).addOutput(out);
        for (String input : inputs) {
            n.addInput(input);
        }
        graph.addNode(n);
        return out;
    }

    private String scalar(float value) {
        return constant(TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(value)
                .build());
    }

    private String scalarLong(long value) {
        return constant(TensorProto.newBuilder().setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(value)
                .build());
    }

    /** A Constant node holding {@code t}, as exporters write scalars. */
    private String constant(TensorProto t) {
        String out = "c" + counter++;
        graph.addNode(NodeProto.newBuilder().setOpType("Constant").setName("/Constant_" + counter).addOutput(out)
                .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(t)));
        return out;
    }

    private String vectorLong(long... values) {
        String name = "v" + counter++;
        graph.addInitializer(longs(name, values, values.length));
        return name;
    }

    private String floats(String prefix, int rows, int cols, double bound) {
        return addFloats(prefix, rows * Math.max(cols, 1), cols == 0 ? new long[] {rows} : new long[] {rows, cols},
                0, bound);
    }

    private String around(String prefix, int count, double centre) {
        return addFloats(prefix, count, new long[] {count}, centre, 0.1);
    }

    private String addFloats(String prefix, int count, long[] dims, double centre, double spread) {
        String name = prefix + "." + counter++;
        ByteBuffer raw = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            raw.putFloat((float) (centre + random.nextDouble(-spread, spread)));
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(raw.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    private static TensorProto longs(String name, long[] values, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        for (long v : values) {
            t.addInt64Data(v);
        }
        return t.build();
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static AttributeProto ints1(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static ValueInfoProto intInput(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE)
                        .setShape(shape("batch", "sequence")))).build();
    }

    private static TensorShapeProto shape(String... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (String d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d));
        }
        return s.build();
    }
}
