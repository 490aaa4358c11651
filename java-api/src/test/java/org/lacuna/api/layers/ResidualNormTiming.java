package org.lacuna.api.layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;

/**
 * Times the MiniLM-shaped post-norm encoder (6 layers, hidden 384, 12 heads of 32, FFN 1536, seq 128, F16 storage,
 * as the CPU benchmark's encoder case) with each residual add and layer norm fused into one op and as the two
 * separate ops, interleaved in one JVM (the order alternating every round), and prints the medians and their ratio.
 * Not a unit test (no timing belongs in those): run by hand with the test classpath,
 * {@code java -cp ... org.lacuna.api.layers.ResidualNormTiming [rounds] [batch...]}.
 */
public final class ResidualNormTiming {
    private ResidualNormTiming() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int[] batches = args.length > 1 ? Arrays.stream(args).skip(1).mapToInt(Integer::parseInt).toArray() : new int[] {1, 32};
        int hidden = 384;
        int sequence = 128;
        TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(hidden, 12, 1536, DType.F16).withPostNorm();
        try (Session session = Lacuna.open("cpu", 0)) {
            List<TransformerEncoderLayer> layers = new ArrayList<>();
            for (int l = 0; l < 6; l++) {
                layers.add(TransformerEncoderLayer.create(session, config, TransformerEncoderLayer.Weights.random(config, 100 + l)));
            }
            for (int batch : batches) {
                int[] lengths = new int[batch];
                Arrays.fill(lengths, sequence);
                float[] input = new float[batch * sequence * hidden];
                SplittableRandom random = new SplittableRandom(10);
                for (int i = 0; i < input.length; i++) {
                    input[i] = (float) random.nextDouble(-1, 1);
                }
                try (Sequences sequences = Sequences.of(session, lengths);
                     Tensor x = session.fromFloats(input, DType.F16, (long) batch * sequence, hidden)) {
                    int warmup = Math.max(5, rounds / 3);
                    long[][] times = new long[2][rounds];
                    for (int round = -warmup; round < rounds; round++) {
                        for (int k = 0; k < 2; k++) {
                            boolean fused = ((round & 1) == 0) == (k == 0); // alternate which runs first
                            long nanos = forward(layers, fused, x, sequences);
                            if (round >= 0) {
                                times[fused ? 1 : 0][round] = nanos;
                            }
                        }
                    }
                    double unfused = median(times[0]) / 1e6;
                    double fused = median(times[1]) / 1e6;
                    System.out.printf("batch %d: separate add + layerNorm %.2f ms, fused residualLayerNorm %.2f ms "
                            + "(median of %d, interleaved): fused/separate time %.3f, speed-up %.3fx%n",
                            batch, unfused, fused, rounds, fused / unfused, unfused / fused);
                }
            }
        }
    }

    private static long forward(List<TransformerEncoderLayer> layers, boolean fused, Tensor x, Sequences sequences) {
        long start = System.nanoTime();
        Tensor h = x;
        for (TransformerEncoderLayer layer : layers) {
            Tensor next = layer.fuseResidualNorms(fused).forward(h, sequences);
            if (h != x) {
                h.close();
            }
            h = next;
        }
        h.shape();
        long nanos = System.nanoTime() - start;
        h.close();
        return nanos;
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }
}
