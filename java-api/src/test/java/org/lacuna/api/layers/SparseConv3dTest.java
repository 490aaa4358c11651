package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.Int3;
import org.lacuna.runtime.sparseconv.KernelMap;

/** The layer on the CPU backend, with weights whose results can be counted by hand. */
class SparseConv3dTest {
    private Session session;
    private int[] coordinates;

    @BeforeEach
    void open() {
        session = Lacuna.open("cpu", 0);
        Random random = new Random(7);
        java.util.LinkedHashSet<java.util.List<Integer>> rows = new java.util.LinkedHashSet<>();
        while (rows.size() < 120) {
            rows.add(java.util.List.of(random.nextInt(2), random.nextInt(8) - 4, random.nextInt(8) - 4,
                    random.nextInt(8)));
        }
        coordinates = rows.stream().flatMap(java.util.List::stream).mapToInt(Integer::intValue).toArray();
    }

    @AfterEach
    void close() {
        session.close();
    }

    private SparseTensor ones(int channels) {
        float[] features = new float[coordinates.length / 4 * channels];
        java.util.Arrays.fill(features, 1f);
        return SparseTensor.of(session, coordinates, features, channels, DType.F32, 1, 1, 1);
    }

    private static float[] filled(int count, float value) {
        float[] a = new float[count];
        java.util.Arrays.fill(a, value);
        return a;
    }

    /**
     * A layer plans per signature bucket and keeps no map alive: once a cloud's tensors are closed and unreachable, its
     * map (and the coordinate sets it holds) can be collected, though the layer and the session's scheduler live on.
     */
    @Test
    void aLayerDoesNotKeepTheKernelMapsOfCloudsItRanOn() throws InterruptedException {
        try (SparseConv3d conv = SparseConv3d.create(session, ConvGeometry.submanifold(3), 1, 2, filled(27 * 2, 1f),
                null, SparseConv3d.Options.of(DType.F32))) {
            WeakReference<KernelMap> first = forwardOnce(conv);
            WeakReference<KernelMap> second = forwardOnce(conv);
            for (int i = 0; i < 50 && (first.get() != null || second.get() != null); i++) {
                System.gc();
                Thread.sleep(10);
            }
            assertNull(first.get(), "a map the layer planned for earlier is still reachable");
            assertNull(second.get(), "the map of the layer's last forward is still reachable");
            try (SparseTensor x = ones(1); SparseTensor y = conv.forward(x)) {
                assertEquals(2, y.channels(), "the layer still runs on a new cloud");
            }
        }
    }

    /**
     * The layer plans per signature bucket, not per map: a second cloud whose map falls in a planned bucket (here the
     * first cloud moved: other coordinates, the same counts) runs on the bucket's route without asking the scheduler,
     * a cloud in another bucket asks once; the results are those of a layer planning afresh.
     */
    @Test
    void cloudsOfOnePlannedBucketShareThePlanAndAnotherBucketPlansAgain() {
        Random random = new Random(3);
        float[] w = new float[27 * 2 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() - 0.5f;
        }
        var scheduler = session.scheduler();
        try (SparseConv3d conv = SparseConv3d.create(session, ConvGeometry.submanifold(3), 2, 3, w, null,
                SparseConv3d.Options.of(DType.F32))) {
            long asked = scheduler.decisionsAsked();
            float[] first = run(conv, coordinates, random);
            assertEquals(asked + 1, scheduler.decisionsAsked(), "the first cloud plans its bucket");
            int[] moved = coordinates.clone();
            for (int row = 0; row < moved.length / 4; row++) {
                moved[4 * row + 1] += 100;
                moved[4 * row + 3] -= 50;
            }
            long seed = random.nextLong();
            float[] second = run(conv, moved, new Random(seed));
            assertEquals(asked + 1, scheduler.decisionsAsked(), "a new cloud in the planned bucket asks nothing");
            assertEquals(1, conv.plannedBuckets());
            int[] fewer = java.util.Arrays.copyOf(coordinates, 4 * 20);
            run(conv, fewer, random);
            assertEquals(asked + 2, scheduler.decisionsAsked(), "20 points are another bucket than 120");
            assertEquals(2, conv.plannedBuckets());
            try (SparseConv3d fresh = SparseConv3d.create(session, ConvGeometry.submanifold(3), 2, 3, w, null,
                    SparseConv3d.Options.of(DType.F32))) {
                assertArrayEquals(run(fresh, moved, new Random(seed)), second, "the shared plan's result");
            }
            assertEquals(first.length, second.length);
        }
    }

    /** The layer's output on random features at {@code at}. */
    private float[] run(SparseConv3d conv, int[] at, Random random) {
        float[] features = new float[at.length / 4 * 2];
        for (int i = 0; i < features.length; i++) {
            features[i] = random.nextFloat() * 2 - 1;
        }
        try (SparseTensor x = SparseTensor.of(session, at, features, 2, DType.F32, 1, 1, 1);
             SparseTensor y = conv.forward(x)) {
            return y.features().toFloatArray();
        }
    }

    /** A forward on a fresh cloud whose tensors are closed on return; the map it used, weakly. */
    private WeakReference<KernelMap> forwardOnce(SparseConv3d conv) {
        SparseTensor x = ones(1);
        SparseTensor y = conv.forward(x);
        WeakReference<KernelMap> map = new WeakReference<>(conv.kernelMap(x));
        y.close();
        x.close();
        return map;
    }

    @Test
    void pointwiseConvolutionChoosesADataflowItself() {
        // A 1x1x1 map has a single offset: its split redundancy must not try to split it in two.
        try (SparseConv3d conv = SparseConv3d.create(session, ConvGeometry.submanifold(1), 1, 1, filled(1, 2f), null,
                SparseConv3d.Options.of(DType.F32))) {
            SparseTensor y = conv.forward(ones(1));
            for (float v : y.features().toFloatArray()) {
                assertEquals(2f, v);
            }
            assertTrue(conv.lastDataflow().isPresent());
        }
    }

    @Test
    void submanifoldOnesCountNeighbours() {
        try (SparseConv3d conv = SparseConv3d.create(session, ConvGeometry.submanifold(3), 1, 1, filled(27, 1f), null,
                SparseConv3d.Options.of(DType.F32))) {
            SparseTensor y = conv.forward(ones(1));
            assertArrayEquals(coordinates, y.coordinates().toIntArray(), "a submanifold layer keeps the coordinates");
            float[] out = y.features().toFloatArray();
            for (int r = 0; r < coordinates.length / 4; r++) {
                int count = 0;
                for (int s = 0; s < coordinates.length / 4; s++) {
                    boolean near = coordinates[4 * s] == coordinates[4 * r];
                    for (int a = 1; a < 4; a++) {
                        near &= Math.abs(coordinates[4 * s + a] - coordinates[4 * r + a]) <= 1;
                    }
                    count += near ? 1 : 0;
                }
                assertEquals(count, out[r], "row " + r);
            }
            assertTrue(conv.lastDataflow().isPresent());
        }
    }

    @Test
    void downsamplingThenUpsamplingReturnsToTheCoordinates() {
        try (SparseConv3d down = SparseConv3d.create(session, ConvGeometry.strided(2, 2), 1, 1, filled(8, 1f), null,
                SparseConv3d.Options.of(DType.F32));
             SparseConv3d up = SparseConv3d.create(session, ConvGeometry.transposed(2, 2), 1, 1, filled(8, 1f), null,
                     SparseConv3d.Options.of(DType.F32))) {
            SparseTensor coarse = down.forward(ones(1));
            assertArrayEquals(new int[] {2, 2, 2}, coarse.tensorStride());
            Map<java.util.List<Integer>, Integer> cells = new HashMap<>();
            for (int r = 0; r < coordinates.length / 4; r++) {
                cells.merge(cell(coordinates, r), 1, Integer::sum);
            }
            int[] c = coarse.coordinates().toIntArray();
            float[] counts = coarse.features().toFloatArray();
            assertEquals(cells.size(), c.length / 4);
            for (int r = 0; r < c.length / 4; r++) {
                assertEquals(cells.get(java.util.List.of(c[4 * r], c[4 * r + 1], c[4 * r + 2], c[4 * r + 3])),
                        counts[r], 0f, "points in coarse cell " + r);
            }
            SparseTensor fine = up.forward(coarse);
            assertArrayEquals(coordinates, fine.coordinates().toIntArray(), "back on the original coordinates");
            float[] spread = fine.features().toFloatArray();
            for (int r = 0; r < coordinates.length / 4; r++) {
                assertEquals(cells.get(cell(coordinates, r)), spread[r], 0f, "row " + r + " gets its cell's count");
            }
        }
    }

    @Test
    void layersOnTheSameCoordinatesShareTheMap() {
        try (SparseConv3d a = SparseConv3d.create(session, ConvGeometry.submanifold(3), 1, 2, filled(54, 0.5f), null,
                SparseConv3d.Options.of(DType.F32));
             SparseConv3d b = SparseConv3d.create(session, ConvGeometry.submanifold(3), 2, 1, filled(54, 0.5f), null,
                     SparseConv3d.Options.of(DType.F32).forcing(Dataflow.GATHER_GEMM_SCATTER))) {
            SparseTensor x = ones(1);
            SparseTensor h = a.forward(x);
            assertSame(a.kernelMap(x), b.kernelMap(h), "the output of a submanifold layer reuses the input's map");
            b.forward(h);
            assertEquals(Dataflow.GATHER_GEMM_SCATTER, b.lastDataflow().orElseThrow());
        }
    }

    @Test
    void batchNormIsFoldedIntoTheWeights() {
        float[] w = new float[27 * 2];
        w[13 * 2] = 1f;      // centre offset, out channel 0: identity
        w[13 * 2 + 1] = 2f;  // centre offset, out channel 1: doubling
        SparseConv3d.BatchNorm norm = new SparseConv3d.BatchNorm(new float[] {2f, 1f}, new float[] {0.5f, -1f},
                new float[] {1f, 0f}, new float[] {3f, 0.25f}, 1.0);
        try (SparseConv3d conv = SparseConv3d.create(session, ConvGeometry.submanifold(3), 1, 2, w,
                new float[] {0.25f, 0f}, norm, SparseConv3d.Options.of(DType.F32).withActivation(Activation.RELU))) {
            float[] out = conv.forward(ones(1)).features().toFloatArray();
            // channel 0: relu(2 (1 + 0.25 - 1) / 2 + 0.5) = 0.75; channel 1: relu((2 - 0) / sqrt(1.25) - 1)
            assertEquals(0.75f, out[0], 1e-6f);
            assertEquals((float) (2 / Math.sqrt(1.25) - 1), out[1], 1e-6f);
        }
    }

    @Test
    void badInputsAreClearErrors() {
        try (SparseConv3d conv = SparseConv3d.create(session, ConvGeometry.submanifold(Int3.of(3, 1, 3),
                Int3.cubic(1)), 4, 2, new float[9 * 4 * 2], null, SparseConv3d.Options.of(DType.F32))) {
            InvalidInputException channels = assertThrows(InvalidInputException.class, () -> conv.forward(ones(3)));
            assertTrue(channels.getMessage().contains("channel mismatch"), channels.getMessage());
        }
        assertThrows(InvalidInputException.class, () -> SparseConv3d.create(session, ConvGeometry.submanifold(3), 4,
                2, new float[10], null, SparseConv3d.Options.of(DType.F32)));
        float[] nan = new float[27];
        nan[5] = Float.NaN;
        assertThrows(InvalidInputException.class, () -> SparseConv3d.create(session, ConvGeometry.submanifold(3), 1,
                1, nan, null, SparseConv3d.Options.of(DType.F32)));
        try (SparseConv3d up = SparseConv3d.create(session, ConvGeometry.transposed(2, 2), 1, 1, filled(8, 1f), null,
                SparseConv3d.Options.of(DType.F32))) {
            InvalidInputException notDownsampled = assertThrows(InvalidInputException.class,
                    () -> up.forward(ones(1)));
            assertTrue(notDownsampled.getMessage().contains("did not come from a downsampling"),
                    notDownsampled.getMessage());
        }
        assertThrows(InvalidInputException.class, () -> SparseConv3d.Options.of(DType.BF16));
    }

    private static java.util.List<Integer> cell(int[] c, int r) {
        return java.util.List.of(c[4 * r], Math.floorDiv(c[4 * r + 1], 2) * 2, Math.floorDiv(c[4 * r + 2], 2) * 2,
                Math.floorDiv(c[4 * r + 3], 2) * 2);
    }
}
