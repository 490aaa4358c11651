package org.lacuna.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.layers.Sequences;
import org.lacuna.api.layers.TokenDropping;
import org.lacuna.api.layers.TransformerEncoderLayer;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.ScoreRule;

/**
 * Selftest family: a transformer encoder layer on a ragged batch, so that every attention op runs (layer norm, the
 * QKV projection, flash attention, the residual adds, the FFN): dense with the attention each token received
 * returned, and dropping half of each sequence's tokens by given scores (selection, gather, attention on the kept
 * tokens, scatter). The scores are distinct by construction, so both backends keep the same tokens.
 */
final class AttentionChecks {
    static final String FAMILY = "attention";
    private static final int[] LENGTHS = {17, 64, 5, 33};

    private AttentionChecks() {
    }

    private record Run(float[] hidden, float[] keyScores, double millis) {
    }

    static List<CheckResult> run(Session serving, Session reference, SplittableRandom random) {
        List<CheckResult> results = new ArrayList<>();
        int hidden = 128;
        int tokens = 0;
        for (int length : LENGTHS) {
            tokens += length;
        }
        float[] x = new float[tokens * hidden];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        // A shuffled 0..tokens-1: no two scores tie, so a selection cannot differ by rounding.
        float[] scores = new float[tokens];
        for (int i = 0; i < tokens; i++) {
            scores[i] = i;
        }
        for (int i = tokens - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            float t = scores[i];
            scores[i] = scores[j];
            scores[j] = t;
        }
        long seed = random.nextLong();
        String shape = " [" + tokens + " tokens in " + LENGTHS.length + " sequences, 4 heads x 32]";
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            TransformerEncoderLayer.Config dense = TransformerEncoderLayer.Config.of(hidden, 4, 256, dtype);
            TransformerEncoderLayer.Config dropping = dense.withTokenDropping(TokenDropping.keep(0.5, ScoreRule.GIVEN));
            // A layer is about ten chained roundings of its storage type (norms, projections, softmax, FFN, adds).
            double tolerance = CheckResult.tolerance(dtype, 10);
            Run want = run(reference, dense, seed, x, null, tokens, hidden);
            Run got = run(serving, dense, seed, x, null, tokens, hidden);
            results.add(new CheckResult(FAMILY, "encoder layer " + dtype + shape, CheckResult.normalisedMaxError(
                    got.hidden(), want.hidden()), tolerance, got.millis(), ""));
            results.add(new CheckResult(FAMILY, "attention received (key scores) " + dtype,
                    CheckResult.normalisedMaxError(got.keyScores(), want.keyScores()),
                    CheckResult.tolerance(dtype, 4), got.millis(), ""));
            Run wantDropped = run(reference, dropping, seed, x, scores, tokens, hidden);
            Run gotDropped = run(serving, dropping, seed, x, scores, tokens, hidden);
            results.add(new CheckResult(FAMILY, "keep 0.5 by score, attention on kept " + dtype,
                    CheckResult.normalisedMaxError(gotDropped.hidden(), wantDropped.hidden()), tolerance,
                    gotDropped.millis(), ""));
        }
        return results;
    }

    private static Run run(Session session, TransformerEncoderLayer.Config config, long seed, float[] x,
                           float[] scores, int tokens, int hidden) {
        KeyScore emit = scores == null ? KeyScore.MEAN_RECEIVED : null;
        try (TransformerEncoderLayer layer = TransformerEncoderLayer.create(session, config,
                TransformerEncoderLayer.Weights.random(config, seed));
             Sequences sequences = Sequences.of(session, LENGTHS);
             Tensor xs = session.fromFloats(x, config.dtype(), tokens, hidden);
             Tensor given = scores == null ? null : session.fromFloats(scores, DType.F32, tokens);
             DeviceTimer timer = session.newTimer()) {
            close(layer.forward(xs, sequences, given, null, emit)); // warm-up
            timer.start();
            TransformerEncoderLayer.Output output = layer.forward(xs, sequences, given, null, emit);
            double millis = timer.stopMillis();
            try {
                return new Run(output.hidden().toFloatArray(),
                        output.keyScores() == null ? null : output.keyScores().toFloatArray(), millis);
            } finally {
                close(output);
            }
        }
    }

    private static void close(TransformerEncoderLayer.Output output) {
        output.hidden().close();
        if (output.keyScores() != null) {
            output.keyScores().close();
        }
    }
}
