package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.layers.Sequences;
import org.lacuna.api.layers.TokenDropping;
import org.lacuna.api.layers.TransformerEncoder;
import org.lacuna.api.layers.TransformerEncoderLayer;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;

/**
 * The layer code goes through ops only: between the input upload and the output download a forward makes no
 * host↔device copy, as the backend's own transfer counters see it (the CPU backend counts copies between Java
 * arrays and its memory exactly as the CUDA backend counts PCIe copies). On a GPU this also says that the kernel
 * maps are built on the device from the coordinates that came up with the input, a downsampling's output
 * coordinates included, and that no convolution uploads a map. Run per backend by {@link NoHostCopyTest} (CPU) and
 * {@link NoHostCopyGpuTest} (CUDA).
 */
abstract class HostCopyFreeForwards {
    /** The backend the forwards run on. */
    protected abstract String backend();

    /** The real KITTI sweep beside the repository (see ../shared/data/README). */
    private static final java.nio.file.Path SWEEP = java.nio.file.Path.of("").toAbsolutePath().getParent()
            .getParent().resolve("shared/data/kitti-velodyne-000001.bin");

    @Test
    void aMinkUNetForwardOnTheKittiSweepCopiesNothingBetweenInputAndOutput() {
        Assumptions.assumeTrue(Files.isRegularFile(SWEEP), "the KITTI sweep is not at " + SWEEP);
        PointCloud sweep = PointClouds.read(SWEEP);
        // A narrow network (width ratio 0.25) keeps the test fast; the path through the layers is the full one.
        MinkUNet.Config config = MinkUNet.Config.semanticKitti(3).scaled(0.25).withNumClasses(4);
        try (Session session = Lacuna.open(backend(), 0);
             MinkUNet net = MinkUNet.create(session, config, ModelWeights.random(11))) {
            SparseTensor input = SparseTensor.voxelize(session, sweep, Voxelization.cubic(0.3, VoxelReduction.MEAN),
                    VoxelFeatures.POSITIONS, DType.F32);
            TransferStats afterInput = session.backend().transferStats();
            try (SparseTensor logits = net.forward(input)) {
                TransferStats during = session.backend().transferStats().since(afterInput);
                assertEquals(0, during.copies(), "MinkUNet forward: " + during);
                float[] out = logits.features().toFloatArray();
                TransferStats output = session.backend().transferStats().since(afterInput);
                assertEquals(1, output.downloads(), "the output download is the one copy: " + output);
                assertTrue(Arrays.stream(toDoubles(out)).allMatch(Double::isFinite), "finite logits");
            }
        }
    }

    @Test
    void aTransformerEncoderForwardOnRandomTokensCopiesNothingBetweenInputAndOutput() {
        SplittableRandom random = new SplittableRandom(5);
        TransformerEncoderLayer.Config dense = TransformerEncoderLayer.Config.of(64, 2, 128, DType.F16);
        TransformerEncoderLayer.Config dropping = dense.withTokenDropping(TokenDropping.keep(0.5,
                ScoreRule.MEAN_ATTENTION_RECEIVED));
        for (int[] lengths : new int[][] {{5, 1, 40}, {17}, {3, 0, 9, 64}}) {
            int tokens = Arrays.stream(lengths).sum();
            float[] x = new float[tokens * 64];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextDouble() * 2 - 1);
            }
            try (Session session = Lacuna.open(backend(), 0)) {
                TransformerEncoder encoder = TransformerEncoder.create(session, List.of(dense, dropping),
                        List.of(TransformerEncoderLayer.Weights.random(dense, random.nextLong()),
                                TransformerEncoderLayer.Weights.random(dropping, random.nextLong())));
                try (Sequences sequences = Sequences.of(session, lengths);
                     Tensor input = session.fromFloats(x, DType.F16, tokens, 64)) {
                    TransferStats afterInput = session.backend().transferStats();
                    try (Tensor y = encoder.forward(input, sequences)) {
                        TransferStats during = session.backend().transferStats().since(afterInput);
                        assertEquals(0, during.copies(), Arrays.toString(lengths) + ": " + during);
                        y.toFloatArray();
                        assertEquals(1, session.backend().transferStats().since(afterInput).downloads());
                    }
                }
            }
        }
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
