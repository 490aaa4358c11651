package org.lacuna.api.layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.ElementwiseOps;

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
                    System.out.printf("batch %d encoder forward: separate add + layerNorm %.2f ms, fused residualLayerNorm "
                            + "%.2f ms (median of %d, interleaved): fused/separate time %.3f, speed-up %.3fx%n",
                            batch, unfused, fused, rounds, fused / unfused, unfused / fused);
                    opsAlone(session, x, rounds * 4);
                }
            }
        }
    }

    /**
     * The 12 residual adds + norms of one forward alone, on x's shape: add then layerNorm against residualLayerNorm,
     * interleaved; prints the medians, the bytes each moves and the ratio.
     */
    private static void opsAlone(Session session, Tensor x, int rounds) {
        ElementwiseOps ops = session.backend().ops().elementwise();
        int hidden = (int) x.shape().columns();
        float[] ones = new float[hidden];
        Arrays.fill(ones, 1f);
        String call = "ResidualNormTiming";
        try (Tensor residual = session.add(x, x); Tensor sum = session.empty(x.dtype(), x.shape().dims());
             Tensor y = session.empty(x.dtype(), x.shape().dims());
             Tensor gamma = session.fromFloats(ones, DType.F32, hidden)) {
            DeviceArray a = x.array(call);
            DeviceArray r = residual.array(call);
            DeviceArray s = sum.array(call);
            DeviceArray out = y.array(call);
            DeviceArray g = gamma.array(call);
            long[][] times = new long[2][rounds];
            for (int round = -rounds / 4; round < rounds; round++) {
                for (int k = 0; k < 2; k++) {
                    boolean fused = ((round & 1) == 0) == (k == 0);
                    long start = System.nanoTime();
                    for (int layer = 0; layer < 12; layer++) {
                        if (fused) {
                            ops.residualLayerNorm(a, r, g, g, 1e-12, out);
                        } else {
                            ops.add(a, r, s);
                            ops.layerNorm(s, g, g, 1e-12, out);
                        }
                    }
                    if (round >= 0) {
                        times[fused ? 1 : 0][round] = System.nanoTime() - start;
                    }
                }
            }
            double separate = median(times[0]) / 1e6;
            double fused = median(times[1]) / 1e6;
            long bytes = a.byteSize();
            System.out.printf("  the 12 residual adds + norms alone on %s: separate %.3f ms (%d MB moved), fused %.3f ms "
                    + "(%d MB): fused/separate time %.3f, speed-up %.3fx%n", x.shape(), separate, 12 * 5 * bytes >> 20,
                    fused, 12 * 3 * bytes >> 20, fused / separate, separate / fused);
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
