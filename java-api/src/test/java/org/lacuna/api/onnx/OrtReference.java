package org.lacuna.api.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.HashMap;
import java.util.Map;
import org.lacuna.api.text.Pooling;
import org.lacuna.api.text.TokenBatch;

/** ONNX Runtime on the same file and token ids, one sentence a run (no padding), pooled as Lacuna pools. */
final class OrtReference implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final OnnxEncoder.Summary model;

    OrtReference(byte[] onnx, OnnxEncoder.Summary model) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(2);
        this.session = env.createSession(onnx, options);
        this.model = model;
    }

    float[][] embed(TokenBatch batch, Pooling pooling) throws OrtException {
        float[][] out = new float[batch.count()][];
        for (int b = 0; b < batch.count(); b++) {
            int[] ids = batch.ids(b);
            int[] types = batch.typeIds(b);
            long[][] idRow = new long[1][ids.length];
            long[][] typeRow = new long[1][ids.length];
            long[][] maskRow = new long[1][ids.length];
            for (int i = 0; i < ids.length; i++) {
                idRow[0][i] = ids[i];
                typeRow[0][i] = types[i];
                maskRow[0][i] = 1;
            }
            Map<String, OnnxTensor> inputs = new HashMap<>();
            try {
                inputs.put(model.inputIds(), OnnxTensor.createTensor(env, idRow));
                if (model.tokenTypeIds() != null) {
                    inputs.put(model.tokenTypeIds(), OnnxTensor.createTensor(env, typeRow));
                }
                if (model.attentionMask() != null) {
                    inputs.put(model.attentionMask(), OnnxTensor.createTensor(env, maskRow));
                }
                try (OrtSession.Result result = session.run(inputs)) {
                    float[][][] states = (float[][][]) result.get(0).getValue();
                    int hidden = model.hidden();
                    float[] flat = new float[ids.length * hidden];
                    for (int t = 0; t < ids.length; t++) {
                        System.arraycopy(states[0][t], 0, flat, t * hidden, hidden);
                    }
                    out[b] = pooling.pool(flat, 0, ids.length, hidden);
                }
            } finally {
                inputs.values().forEach(OnnxTensor::close);
            }
        }
        return out;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
