package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.Safetensors;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;

/** One residual block with random parameters (non-trivial batch norms) against a brute-force reference. */
class ResidualBlockTest {
    private Session session;

    @BeforeEach
    void open() {
        session = Lacuna.open("cpu", 0);
    }

    @AfterEach
    void close() {
        session.close();
    }

    @Test
    void withDownsampleMatchesReference() {
        check(2, 3, 31);
    }

    @Test
    void identityShortcutMatchesReference() {
        check(3, 3, 32);
    }

    private void check(int in, int out, long seed) {
        Random random = new Random(seed);
        int n = 60;
        java.util.LinkedHashSet<java.util.List<Integer>> rows = new java.util.LinkedHashSet<>();
        while (rows.size() < n) {
            rows.add(java.util.List.of(random.nextInt(2), random.nextInt(5), random.nextInt(5), random.nextInt(4)));
        }
        int[] coords = rows.stream().flatMap(java.util.List::stream).mapToInt(Integer::intValue).toArray();
        float[] x = gaussian(random, n * in, 1);
        Map<String, Safetensors.Entry> p = new LinkedHashMap<>();
        float[] w1 = put(p, "b.net.0.kernel", gaussian(random, 27 * in * out, 0.3), 27, in, out);
        float[][] bn1 = norm(p, "b.net.1", out, random);
        float[] w2 = put(p, "b.net.3.kernel", gaussian(random, 27 * out * out, 0.3), 27, out, out);
        float[][] bn2 = norm(p, "b.net.4", out, random);
        float[] wd = null;
        float[][] bnd = null;
        if (in != out) {
            // TorchSparse stores a 1×1×1 kernel as [in, out]: the block must accept that shape.
            wd = put(p, "b.downsample.0.kernel", gaussian(random, in * out, 0.5), in, out);
            bnd = norm(p, "b.downsample.1", out, random);
        }

        double[] h = relu(bn(conv3(coords, x, in, w1, out), bn1, out));
        double[] main = bn(conv3(coords, toFloats(h), out, w2, out), bn2, out);
        double[] shortcut = new double[n * out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                if (wd == null) {
                    s = x[r * in + o];
                } else {
                    for (int c = 0; c < in; c++) {
                        s += x[r * in + c] * wd[c * out + o];
                    }
                }
                shortcut[r * out + o] = s;
            }
        }
        if (bnd != null) {
            shortcut = bn(shortcut, bnd, out);
        }
        float[] want = new float[n * out];
        for (int i = 0; i < want.length; i++) {
            want[i] = (float) Math.max(0, main[i] + shortcut[i]);
        }

        ModelWeights weights = ModelWeights.of(p, "test");
        try (ResidualBlock block = ResidualBlock.create(session, weights, "b", in, out, DType.F32)) {
            SparseTensor input = SparseTensor.of(session, coords, x, in, DType.F32, 1, 1, 1);
            SparseTensor y = block.forward(input);
            assertSame(input.coordinateSet(), y.coordinateSet());
            float[] got = y.features().toFloatArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), "value " + i);
            }
            assertArrayEquals(coords, y.coordinates().toIntArray());
        }
        assertEquals(java.util.List.of(), weights.unused());
    }

    /** Submanifold 3×3×3 at stride 1, offsets x slowest, by searching every row for each neighbour. */
    private static double[] conv3(int[] coords, float[] x, int in, float[] w, int out) {
        int n = coords.length / 4;
        double[] y = new double[n * out];
        for (int r = 0; r < n; r++) {
            int v = 0;
            for (int dx = -1; dx <= 1; dx++) {
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dz = -1; dz <= 1; dz++, v++) {
                        for (int s = 0; s < n; s++) {
                            if (coords[4 * s] == coords[4 * r] && coords[4 * s + 1] == coords[4 * r + 1] + dx
                                    && coords[4 * s + 2] == coords[4 * r + 2] + dy
                                    && coords[4 * s + 3] == coords[4 * r + 3] + dz) {
                                for (int o = 0; o < out; o++) {
                                    for (int c = 0; c < in; c++) {
                                        y[r * out + o] += x[s * in + c] * w[(v * in + c) * out + o];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    private static double[] bn(double[] x, float[][] p, int c) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int ch = i % c;
            y[i] = p[0][ch] * (x[i] - p[2][ch]) / Math.sqrt(p[3][ch] + 1e-5) + p[1][ch];
        }
        return y;
    }

    private static double[] relu(double[] x) {
        double[] y = x.clone();
        for (int i = 0; i < y.length; i++) {
            y[i] = Math.max(0, y[i]);
        }
        return y;
    }

    private static float[] toFloats(double[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (float) x[i];
        }
        return y;
    }

    private static float[][] norm(Map<String, Safetensors.Entry> p, String prefix, int c, Random random) {
        float[] gamma = gaussian(random, c, 0.3);
        float[] var = gaussian(random, c, 0.3);
        for (int i = 0; i < c; i++) {
            gamma[i] += 1;
            var[i] = 0.5f + Math.abs(var[i]);
        }
        return new float[][] {put(p, prefix + ".weight", gamma, c), put(p, prefix + ".bias", gaussian(random, c, 0.2),
                c), put(p, prefix + ".running_mean", gaussian(random, c, 0.2), c),
                put(p, prefix + ".running_var", var, c)};
    }

    private static float[] put(Map<String, Safetensors.Entry> p, String key, float[] values, long... shape) {
        p.put(key, new Safetensors.Entry(key, "F32", shape, values));
        return values;
    }

    private static float[] gaussian(Random random, int count, double std) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) (random.nextGaussian() * std);
        }
        return a;
    }
}
