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
import org.lacuna.api.layers.BevProjection;
import org.lacuna.api.layers.Devoxelize;
import org.lacuna.api.layers.GlobalPooling;
import org.lacuna.api.layers.Sequences;
import org.lacuna.api.layers.TokenDropping;
import org.lacuna.api.layers.TransformerEncoder;
import org.lacuna.api.layers.TransformerEncoderLayer;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * The layer code goes through ops only: between the input upload and the output download a forward makes no
 * host↔device copy, as the backend's own transfer counters see it (the CPU backend counts copies between Java
 * arrays and its memory exactly as the CUDA backend counts PCIe copies). On a GPU this also says that the kernel
 * maps are built on the device from the coordinates that came up with the input, a downsampling's output
 * coordinates included, and that no convolution uploads a map. Run per backend by {@link NoHostCopyTest} (CPU) and
 * {@link NoHostCopyGpuTest} (CUDA; not yet run on a GPU, so the CUDA statements here are what it asserts, not a
 * recorded outcome).
 */
abstract class HostCopyFreeForwards {
    /** The backend the forwards run on. */
    protected abstract String backend();

    /**
     * Whether the backend voxelises on a device (the CUDA backend): then the voxel set is born there, and the host
     * learns its size with size reads and its keys with one download, both while the input is made. A CPU backend
     * voxelises in its own memory, which is the host's: nothing crosses.
     */
    protected abstract boolean voxelisesOnADevice();

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
            TransferStats beforeInput = session.backend().transferStats();
            SparseTensor input = SparseTensor.voxelize(session, sweep, Voxelization.cubic(0.3, VoxelReduction.MEAN),
                    VoxelFeatures.POSITIONS, DType.F32);
            TransferStats afterInput = session.backend().transferStats();
            assertVoxelisation(afterInput.since(beforeInput), sweep, input.coordinateSet().size());
            try (SparseTensor logits = net.forward(input)) {
                TransferStats during = session.backend().transferStats().since(afterInput);
                assertEquals(0, during.copies(), "MinkUNet forward: " + during);
                // Every size in the network (downsampled sets included) comes from the host's coordinate sets.
                assertEquals(0, during.sizeReads(), "MinkUNet forward reads no size: " + during);
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
                        assertEquals(0, during.sizeReads(), Arrays.toString(lengths) + ": " + during);
                        y.toFloatArray();
                        assertEquals(1, session.backend().transferStats().since(afterInput).downloads());
                    }
                }
            }
        }
    }

    @Test
    void poolingBevAndDevoxelisationOnTheKittiSweepCopyNothingButThePointsTheyAreGiven() {
        Assumptions.assumeTrue(Files.isRegularFile(SWEEP), "the KITTI sweep is not at " + SWEEP);
        PointCloud sweep = PointClouds.read(SWEEP);
        Voxelization voxelization = Voxelization.cubic(0.3, VoxelReduction.MEAN);
        try (Session session = Lacuna.open(backend(), 0)) {
            TransferStats beforeInput = session.backend().transferStats();
            SparseTensor input = SparseTensor.voxelize(session, sweep, voxelization,
                    VoxelFeatures.POSITIONS_AND_CHANNELS, DType.F16);
            assertVoxelisation(session.backend().transferStats().since(beforeInput), sweep,
                    input.coordinateSet().size());
            CoordinateSet set = input.coordinateSet();
            int[] lo = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE};
            int[] hi = {Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE};
            for (int row = 0; row < set.size(); row++) {
                long key = set.key(row);
                int[] at = {CoordinateKey.x(key), CoordinateKey.y(key), CoordinateKey.z(key)};
                for (int a = 0; a < 3; a++) {
                    lo[a] = Math.min(lo[a], at[a]);
                    hi[a] = Math.max(hi[a], at[a]);
                }
            }
            BevProjection bev = new BevProjection(Int3.of(lo[0], lo[1], lo[2]),
                    Int3.of(hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1), BevReduction.MAX);
            TransferStats afterInput = session.backend().transferStats();
            try (Tensor mean = new GlobalPooling(BatchPooling.MEAN).forward(input);
                 Tensor max = new GlobalPooling(BatchPooling.MAX).forward(input, 2);
                 Tensor map = bev.forward(input)) {
                TransferStats during = session.backend().transferStats().since(afterInput);
                assertEquals(0, during.copies(), "pooling and BEV: " + during);
                assertEquals(0, during.sizeReads(), "pooling and BEV: " + during);
                TransferStats beforePoints = session.backend().transferStats();
                try (Tensor perPoint = new Devoxelize(voxelization, PointInterpolation.TRILINEAR).forward(input, sweep)) {
                    TransferStats devoxelize = session.backend().transferStats().since(beforePoints);
                    assertEquals(2, devoxelize.uploads(), "the points and their batch indices: " + devoxelize);
                    assertEquals(0, devoxelize.downloads(), "devoxelisation: " + devoxelize);
                    assertEquals(0, devoxelize.sizeReads(), "devoxelisation: " + devoxelize);
                    assertEquals(sweep.size(), perPoint.shape().dim(0));
                }
                assertTrue(Arrays.stream(toDoubles(mean.toFloatArray())).allMatch(Double::isFinite));
                assertEquals(2, max.shape().dim(0));
                assertEquals(1, map.shape().dim(0));
            }
        }
    }

    /**
     * What making the input cost: on a device, the points up (x, y, z, batch and the channels, channel-major) with the
     * two ints the voxeliser starts from, two size reads (the invalid-point flag and the voxel count, 4 bytes each)
     * and one download of the voxels' keys (the host's description of the set); no upload of features or
     * coordinates after them. On the CPU nothing at all.
     */
    private void assertVoxelisation(TransferStats input, PointCloud cloud, int voxels) {
        if (!voxelisesOnADevice()) {
            assertEquals(new TransferStats(0, 0, 0, 0, 0, 0, 0), input, "CPU voxelisation: " + input);
            return;
        }
        long pointBytes = (long) cloud.size() * (3 * Float.BYTES + Integer.BYTES + cloud.channelCount() * Float.BYTES);
        assertEquals(pointBytes + 2 * Integer.BYTES, input.uploadBytes(), "only the points go up: " + input);
        assertEquals(2, input.sizeReads(), "the invalid-point flag and the voxel count: " + input);
        assertEquals(2 * Integer.BYTES, input.sizeReadBytes(), input.toString());
        assertEquals(1, input.downloads(), "the keys, once: " + input);
        assertEquals((long) voxels * Long.BYTES, input.downloadBytes(), input.toString());
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
