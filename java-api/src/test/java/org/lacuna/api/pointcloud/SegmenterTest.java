package org.lacuna.api.pointcloud;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.Safetensors;
import org.lacuna.api.layers.Devoxelize;
import org.lacuna.api.models.LayerTime;
import org.lacuna.api.models.MinkUNet;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;

/**
 * Segmentation end to end on the CPU backend, on small synthetic scans with a narrow network (the real KITTI sweep
 * at full width runs once, in {@code SegmentCommandTest}).
 */
class SegmenterTest {
    /** A narrow network keeps the synthetic tests fast; the KITTI test runs the real widths. */
    private static final MinkUNet.Config SMALL = MinkUNet.Config.semanticKitti(4).scaled(0.25).withNumClasses(6);

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

    /** Ground and a box with a reflectance channel, and a few NaN points (organised clouds have them). */
    static PointCloud scan(long seed, int n) {
        Random random = new Random(seed);
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            boolean ground = i % 3 != 0;
            x[i] = random.nextFloat() * 8 - 4;
            y[i] = random.nextFloat() * 8 - 4;
            z[i] = ground ? random.nextFloat() * 0.1f : 0.3f + random.nextFloat() * 1.5f;
            r[i] = random.nextFloat();
            if (i % 97 == 5) {
                x[i] = Float.NaN;
            }
        }
        return PointCloud.of(x, y, z, List.of("reflectance"), new float[][] {r});
    }

    private SegmenterOptions small() {
        return SegmenterOptions.defaults().withVoxelSize(0.2).withNetwork(SMALL).withRandomWeights(3);
    }

    @Test
    void labelsAreEachVoxelsArgMaxOfTheNetworksLogitsHandedToItsPoints() {
        PointCloud cloud = scan(1, 3000);
        Segmentation result;
        try (Segmenter segmenter = Segmenter.open(session, small())) {
            result = segmenter.segment(cloud);
        }
        // The same network run by hand: voxelise, forward, nearest-voxel devoxelisation, arg-max per point.
        PointCloud finite = cloud.finitePoints();
        Voxelization voxels = Voxelization.cubic(0.2, VoxelReduction.MEAN);
        float[] perPoint;
        try (MinkUNet network = MinkUNet.create(session, SMALL, ModelWeights.random(3));
             SparseTensor x = SparseTensor.voxelize(session, finite, voxels, VoxelFeatures.POSITIONS_AND_CHANNELS,
                     DType.F32);
             SparseTensor logits = network.forward(x)) {
            perPoint = new Devoxelize(voxels, PointInterpolation.NEAREST).forward(logits, finite).toFloatArray();
        }
        int classes = SMALL.numClasses();
        int[] labels = result.labels();
        assertEquals(cloud.size(), labels.length);
        long[] counts = new long[classes];
        int next = 0;
        for (int p = 0; p < cloud.size(); p++) {
            if (!Float.isFinite(cloud.x(p))) {
                assertEquals(Segmentation.NO_LABEL, labels[p], "point " + p + " has a NaN coordinate");
                continue;
            }
            int q = next++;
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (perPoint[q * classes + c] > perPoint[q * classes + best]) {
                    best = c;
                }
            }
            assertEquals(best, labels[p], "point " + p);
            counts[best]++;
        }
        assertArrayEquals(counts, result.classCounts());
        assertEquals(finite.size(), result.labelledPoints());
        assertTrue(Arrays.stream(counts).filter(c -> c > 0).count() > 1, "random weights still tell points apart");
        assertEquals(10, result.layers().size());
        assertEquals(List.of("stem", "stage1", "stage2", "stage3", "stage4", "up1", "up2", "up3", "up4",
                "classifier"), result.layers().stream().map(LayerTime::name).toList());
        assertEquals(result.voxels(), result.layers().get(0).outputVoxels());
        assertEquals(16, result.layers().get(4).tensorStride()[0]);
        assertTrue(result.layers().get(1).plan().get(0).startsWith("strided k2 s2 8->8"), result.layers().get(1).plan().toString());
        assertEquals("cpu", result.backend());
        assertTrue(result.weights().contains("random (seed 3)"), result.weights());
    }

    @Test
    void aBatchOfCloudsInOnePassLabelsEachAsItAlone() {
        // Scans with non-finite points, of different sizes; cloud 1 overlaps cloud 0's space, so only the batch
        // index keeps their voxels apart.
        List<PointCloud> clouds = List.of(scan(21, 1500), scan(21, 900), scan(23, 2200));
        try (Segmenter segmenter = Segmenter.open(session, small().withLayerTimes(false))) {
            List<Segmentation> batched = segmenter.segmentAll(clouds);
            assertEquals(clouds.size(), batched.size());
            for (int i = 0; i < clouds.size(); i++) {
                Segmentation alone = segmenter.segment(clouds.get(i));
                assertArrayEquals(alone.labels(), batched.get(i).labels(), "cloud " + i);
                assertArrayEquals(alone.classCounts(), batched.get(i).classCounts(), "cloud " + i);
                assertEquals(alone.voxels(), batched.get(i).voxels(), "cloud " + i);
            }
            List<PointCloud> withEmpty = List.of(scan(21, 100), PointCloud.of(new float[0], new float[0],
                    new float[0], List.of("reflectance"), new float[][] {new float[0]}));
            InvalidInputException empty = assertThrows(InvalidInputException.class,
                    () -> segmenter.segmentAll(withEmpty));
            assertTrue(empty.getMessage().contains("cloud 1"), empty.getMessage());
        }
    }

    @Test
    void concurrentCallersGetTheSameLabelsAsOneAtATime() throws Exception {
        List<PointCloud> clouds = List.of(scan(11, 1500), scan(12, 2500), scan(13, 800), scan(14, 2000));
        try (Segmenter segmenter = Segmenter.open(session, small().withLayerTimes(false))) {
            List<int[]> serial = new ArrayList<>();
            for (PointCloud cloud : clouds) {
                serial.add(segmenter.segment(cloud).labels());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<int[]>> futures = new ArrayList<>();
                for (int round = 0; round < 2; round++) {
                    for (PointCloud cloud : clouds) {
                        futures.add(pool.submit(() -> segmenter.segment(cloud).labels()));
                    }
                }
                for (int i = 0; i < futures.size(); i++) {
                    assertArrayEquals(serial.get(i % clouds.size()), futures.get(i).get(), "call " + i);
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void weightsWrittenToSafetensorsSegmentAsTheSeededNetworkAndSayTheirShape() {
        MinkUNet.Config threeInputs = new MinkUNet.Config(3, 5, SMALL.channels(), DType.F32);
        Path file = dir.resolve("minkunet.safetensors");
        try (MinkUNet network = MinkUNet.create(session, threeInputs, ModelWeights.random(9))) {
            Safetensors.write(file, network.parameters().values());
        }
        PointCloud cloud = scan(2, 2000);
        SegmenterOptions positions = small().withFeatures(VoxelFeatures.POSITIONS);
        Segmentation seeded;
        try (Segmenter segmenter = Segmenter.open(session, positions.withNetwork(threeInputs).withRandomWeights(9))) {
            seeded = segmenter.segment(cloud);
        }
        // The options still say 4 inputs and 6 classes: the file's shapes decide.
        try (Segmenter segmenter = Segmenter.open(session, positions.withWeights(file))) {
            assertEquals(3, segmenter.network().inChannels());
            assertEquals(5, segmenter.network().numClasses());
            assertEquals(List.of(), segmenter.unusedWeights());
            Segmentation loaded = segmenter.segment(cloud);
            assertArrayEquals(seeded.labels(), loaded.labels());
            assertEquals(file.toString(), loaded.weights());
        }
    }

    @Test
    void badInputIsRefusedNamingTheProblem() throws Exception {
        try (Segmenter segmenter = Segmenter.open(session, small())) {
            PointCloud xyzOnly = PointCloud.of(new float[] {1, 2}, new float[] {1, 2}, new float[] {0, 0});
            InvalidInputException width = assertThrows(InvalidInputException.class, () -> segmenter.segment(xyzOnly));
            assertTrue(width.getMessage().contains("takes 4 input features") && width.getMessage().contains("gives 3"),
                    width.getMessage());
            PointCloud allNaN = PointCloud.of(new float[] {Float.NaN}, new float[] {0}, new float[] {0},
                    List.of("reflectance"), new float[][] {{0}});
            assertTrue(assertThrows(InvalidInputException.class, () -> segmenter.segment(allNaN)).getMessage()
                    .contains("finite"));
            assertThrows(InvalidInputException.class, () -> segmenter.segment(null));
            segmenter.close();
            assertThrows(ResourceClosedException.class, () -> segmenter.segment(scan(1, 10)));
        }
        Path missing = dir.resolve("absent.safetensors");
        var e = assertThrows(org.lacuna.runtime.error.MalformedInputException.class,
                () -> Segmenter.open(session, small().withWeights(missing)));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertThrows(InvalidInputException.class, () -> SegmenterOptions.defaults().withVoxelSize(0));
        assertThrows(InvalidInputException.class, () -> SegmenterOptions.defaults().withVoxelSize(Double.NaN));
    }
}
