package org.lacuna.api.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.models.BertEncoder;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import org.lacuna.api.text.Pooling;
import org.lacuna.api.text.TokenBatch;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.api.text.EmbeddingAgreement;

/** The importer on small encoders written in the test with the export's node pattern, checked against ONNX Runtime. */
class OnnxEncoderTest {
    @TempDir
    Path dir;

    @Test
    void recognisesTheStructureAndMatchesOnnxRuntimeAtHeadDim64() throws Exception {
        ModelProto proto = SyntheticEncoderOnnx.build(50, 128, 2, 256, 2, 40, 7);
        Path file = dir.resolve("tiny.onnx");
        Files.write(file, proto.toByteArray());
        OnnxEncoder model = OnnxEncoder.read(file);
        assertEquals(2, model.heads());
        assertEquals(64, model.headDim());
        assertEquals(2, model.layers().size());
        assertEquals(256, model.ffnHidden());
        assertEquals(40, model.maxPositions());
        assertEquals("input_ids", model.inputIds());
        assertEquals("token_type_ids", model.tokenTypeIds());
        assertEquals("attention_mask", model.attentionMask());

        TokenBatch batch = randomBatch(new SplittableRandom(3), 50, 5, 1, 30);
        Pooling pooling = Pooling.meanNormalized();
        float[][] ours;
        try (Session session = Lacuna.open("cpu", 0); BertEncoder encoder = BertEncoder.create(session, model)) {
            ours = encoder.embed(batch, pooling);
        }
        try (OrtReference ort = new OrtReference(proto.toByteArray(), model.summary())) {
            float[][] reference = ort.embed(batch, pooling);
            for (int b = 0; b < batch.count(); b++) {
                double cosine = EmbeddingAgreement.cosine(ours[b], reference[b]);
                assertTrue(cosine >= 0.9999, "sentence " + b + ": cosine " + cosine);
            }
        }
    }

    @Test
    void anUnsupportedOperatorIsNamedWithItsNode() {
        ModelProto proto = SyntheticEncoderOnnx.build(20, 64, 1, 64, 1, 16, 1);
        var graph = proto.getGraph().toBuilder();
        int erf = indexOf(graph.getNodeList(), "Erf");
        graph.setNode(erf, graph.getNode(erf).toBuilder().setOpType("Tanh").setName("/act/Tanh"));
        ModelProto changed = proto.toBuilder().setGraph(graph).build();
        var e = assertThrows(NotSupportedException.class, () -> OnnxEncoder.fromModel(changed, "tiny.onnx"));
        assertTrue(e.getMessage().contains("'/act/Tanh' (Tanh)"), e.getMessage());
    }

    @Test
    void aBrokenPatternIsNamedWithItsNode() {
        ModelProto proto = SyntheticEncoderOnnx.build(20, 64, 1, 64, 1, 16, 1);
        var graph = proto.getGraph().toBuilder();
        int softmax = indexOf(graph.getNodeList(), "Softmax");
        graph.setNode(softmax, graph.getNode(softmax).toBuilder().clearAttribute()
                .addAttribute(graph.getNode(softmax).getAttribute(0).toBuilder().setI(1)));
        ModelProto changed = proto.toBuilder().setGraph(graph).build();
        var e = assertThrows(NotSupportedException.class, () -> OnnxEncoder.fromModel(changed, "tiny.onnx"));
        assertTrue(e.getMessage().contains("(Softmax)") && e.getMessage().contains("axis 1"), e.getMessage());
    }

    /** Shape's start/end are clamped to the rank as the specification says; an empty slice step is no crash. */
    @Test
    void outOfRangeShapeBoundsAndEmptySliceStepsAreClearErrors() {
        ModelProto proto = SyntheticEncoderOnnx.build(20, 64, 1, 64, 1, 16, 1);
        var graph = proto.getGraph().toBuilder();
        int shape = indexOf(graph.getNodeList(), "Shape");
        graph.setNode(shape, graph.getNode(shape).toBuilder().addAttribute(AttributeProto.newBuilder().setName("start")
                .setType(AttributeProto.AttributeType.INT).setI(5)));
        ModelProto clamped = proto.toBuilder().setGraph(graph).build();
        var e = assertThrows(NotSupportedException.class, () -> OnnxEncoder.fromModel(clamped, "tiny.onnx"));
        assertTrue(e.getMessage().contains("outside shape []"), e.getMessage());

        graph = proto.getGraph().toBuilder();
        graph.addInitializer(TensorProto.newBuilder().setName("no_steps").setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(0));
        int slice = indexOf(graph.getNodeList(), "Slice");
        graph.setNode(slice, graph.getNode(slice).toBuilder().setInput(4, "no_steps"));
        ModelProto noSteps = proto.toBuilder().setGraph(graph).build();
        var s = assertThrows(NotSupportedException.class, () -> OnnxEncoder.fromModel(noSteps, "tiny.onnx"));
        assertTrue(s.getMessage().contains("(Slice)"), s.getMessage());
    }

    @Test
    void truncatedEmptyAndMissingFilesFailNamingTheFile() throws Exception {
        byte[] bytes = SyntheticEncoderOnnx.build(20, 64, 1, 64, 1, 16, 1).toByteArray();
        Path truncated = dir.resolve("truncated.onnx");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        var e = assertThrows(MalformedInputException.class, () -> OnnxEncoder.read(truncated));
        assertTrue(e.getMessage().contains("truncated.onnx"), e.getMessage());
        Path empty = dir.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        assertThrows(MalformedInputException.class, () -> OnnxEncoder.read(empty));
        var missing = assertThrows(MalformedInputException.class, () -> OnnxEncoder.read(dir.resolve("none.onnx")));
        assertTrue(missing.getMessage().contains("no such ONNX file"), missing.getMessage());
        Path text = dir.resolve("text.onnx");
        Files.writeString(text, "this is not protobuf at all, just text\n");
        assertThrows(MalformedInputException.class, () -> OnnxEncoder.read(text));
    }

    static TokenBatch randomBatch(SplittableRandom random, int vocabulary, int count, int minLength, int maxLength) {
        int[] lengths = new int[count];
        int total = 0;
        for (int b = 0; b < count; b++) {
            lengths[b] = random.nextInt(minLength, maxLength + 1);
            total += lengths[b];
        }
        int[] ids = new int[total];
        int[] types = new int[total];
        for (int i = 0; i < total; i++) {
            ids[i] = random.nextInt(vocabulary);
            types[i] = random.nextInt(2);
        }
        return new TokenBatch(ids, types, lengths);
    }

    private static int indexOf(java.util.List<NodeProto> nodes, String op) {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).getOpType().equals(op)) {
                return i;
            }
        }
        throw new AssertionError("no " + op);
    }
}
