package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.Safetensors;
import org.lacuna.api.layers.Devoxelize;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;

/** The whole network on the CPU backend, on a small synthetic scan. */
class MinkUNetTest {
    @TempDir
    Path dir;
    private Session session;

    @BeforeEach
    void open() {
        session = Lacuna.open("cpu", 0);
    }

    @AfterEach
    void close() {
        session.close();
    }

    /** A few hundred points on a ground plane and a box, voxelised at 0.2 m: a scan in miniature. */
    private SparseTensor scan() {
        return SparseTensor.voxelize(session, cloud(), VOXELS, VoxelFeatures.POSITIONS, DType.F32);
    }

    private static final Voxelization VOXELS = Voxelization.cubic(0.2, VoxelReduction.MEAN);

    private static PointCloud cloud() {
        Random random = new Random(42);
        int n = 400;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            boolean ground = i % 3 != 0;
            x[i] = random.nextFloat() * 6 - 3;
            y[i] = random.nextFloat() * 6 - 3;
            z[i] = ground ? random.nextFloat() * 0.1f : 0.2f + random.nextFloat() * 1.5f;
            if (!ground) {
                x[i] = 1 + x[i] / 6;
                y[i] = -1 + y[i] / 6;
            }
        }
        return PointCloud.of(x, y, z);
    }

    private static MinkUNet.Config config() {
        return MinkUNet.Config.semanticKitti(3).withNumClasses(2);
    }

    @Test
    void endToEndShapeDeterminismAndSafetensorsRoundTrip() {
        SparseTensor x = scan();
        float[] first;
        Map<String, Safetensors.Entry> parameters;
        try (MinkUNet net = MinkUNet.create(session, config(), ModelWeights.random(7))) {
            SparseTensor logits = net.forward(x);
            assertArrayEquals(new long[] {x.size(), 2}, logits.features().shape().dims());
            assertEquals(DType.F32, logits.featureType());
            assertArrayEquals(x.coordinates().toIntArray(), logits.coordinates().toIntArray(),
                    "logits are per input voxel, in the input's order");
            first = logits.features().toFloatArray();
            parameters = net.parameters();
        }
        assertTrue(Arrays.stream(toDoubles(first)).allMatch(Double::isFinite));
        assertTrue(Arrays.stream(toDoubles(first)).anyMatch(v -> v != 0), "random weights give non-zero logits");
        // 2 stem + 4 × (1 + 2 blocks) + 4 × (1 + 2 blocks), BN per conv, classifier: every conv and norm is keyed.
        assertTrue(parameters.containsKey("stage4.1.downsample.0.kernel"));
        assertTrue(parameters.containsKey("up1.1.0.downsample.1.running_var"));
        assertArrayEquals(new long[] {8, 256, 256}, parameters.get("up1.0.net.0.kernel").shape());
        assertArrayEquals(new long[] {1, 256 + 128, 256}, parameters.get("up1.1.0.downsample.0.kernel").shape());
        assertArrayEquals(new long[] {2, 96}, parameters.get("classifier.0.weight").shape());

        try (MinkUNet again = MinkUNet.create(session, config(), ModelWeights.random(7))) {
            assertArrayEquals(first, again.forward(x).features().toFloatArray(), "same seed, same logits");
        }
        try (MinkUNet other = MinkUNet.create(session, config(), ModelWeights.random(8))) {
            assertFalse(Arrays.equals(first, other.forward(x).features().toFloatArray()), "another seed differs");
        }

        Path file = dir.resolve("minkunet.safetensors");
        Safetensors.write(file, parameters.values());
        ModelWeights loaded = ModelWeights.load(file);
        try (MinkUNet fromFile = MinkUNet.create(session, config(), loaded)) {
            assertArrayEquals(first, fromFile.forward(x).features().toFloatArray(), "loaded weights, same logits");
        }
        assertEquals(java.util.List.of(), loaded.unused());
    }

    @Test
    void missingAndMisShapedTensorsNameTheKeyAndShapes() {
        Map<String, Safetensors.Entry> parameters;
        try (MinkUNet net = MinkUNet.create(session, config(), ModelWeights.random(1))) {
            parameters = new LinkedHashMap<>(net.parameters());
        }
        Map<String, Safetensors.Entry> missing = new LinkedHashMap<>(parameters);
        missing.remove("stage2.1.net.4.running_mean");
        String m = assertThrows(InvalidInputException.class,
                () -> MinkUNet.create(session, config(), ModelWeights.of(missing, "ckpt"))).getMessage();
        assertTrue(m.contains("'stage2.1.net.4.running_mean'") && m.contains("[64]") && m.contains("ckpt"), m);

        Map<String, Safetensors.Entry> wrong = new LinkedHashMap<>(parameters);
        wrong.put("stem.0.kernel", new Safetensors.Entry("stem.0.kernel", "F32", new long[] {27, 4, 32},
                new float[27 * 4 * 32]));
        m = assertThrows(InvalidInputException.class,
                () -> MinkUNet.create(session, config(), ModelWeights.of(wrong, "ckpt"))).getMessage();
        assertTrue(m.contains("'stem.0.kernel'") && m.contains("[27, 4, 32]") && m.contains("[27, 3, 32]"), m);
    }

    @Test
    void halfPrecisionTracksSinglePrecisionAndLogitsReachThePoints() {
        SparseTensor x = scan();
        float[] single;
        try (MinkUNet net = MinkUNet.create(session, config(), ModelWeights.random(3))) {
            SparseTensor logits = net.forward(x);
            single = logits.features().toFloatArray();
            // Per-point logits: each point takes its voxel's (nearest) row.
            PointCloud points = cloud();
            float[] perPoint = new Devoxelize(VOXELS, PointInterpolation.NEAREST).forward(logits, points).toFloatArray();
            assertEquals(points.size() * 2, perPoint.length);
            int[] coords = x.coordinates().toIntArray();
            for (int p = 0; p < points.size(); p += 37) {
                int row = -1;
                for (int r = 0; r < coords.length / 4 && row < 0; r++) {
                    if (coords[4 * r + 1] == (int) Math.floor(points.x(p) / 0.2)
                            && coords[4 * r + 2] == (int) Math.floor(points.y(p) / 0.2)
                            && coords[4 * r + 3] == (int) Math.floor(points.z(p) / 0.2)) {
                        row = r;
                    }
                }
                assertEquals(single[2 * row], perPoint[2 * p], "point " + p);
            }
        }
        SparseTensor x16 = SparseTensor.of(session, x.coordinates().toIntArray(), x.features().toFloatArray(), 3,
                DType.F16, 1, 1, 1);
        try (MinkUNet net = MinkUNet.create(session, config().withDType(DType.F16), ModelWeights.random(3))) {
            float[] half = net.forward(x16).features().toFloatArray();
            double scale = 0;
            for (float v : single) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < single.length; i++) {
                assertEquals(single[i], half[i], 0.05 * scale, "logit " + i);
            }
        }
    }

    private static double[] toDoubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
