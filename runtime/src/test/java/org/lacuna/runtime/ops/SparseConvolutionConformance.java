package org.lacuna.runtime.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.DenseConvolution;
import org.lacuna.runtime.sparseconv.Int3;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.sparseconv.ResidentKernelMap;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.testing.TestData;

/**
 * What every backend's sparse convolution must compute, for every kind of kernel map, checked against a dense 3-D
 * convolution read at the output coordinates, on fresh random clouds with poisoned outputs. Subclasses supply the
 * backend and the dataflows to run; the error is relative, ‖out − ref‖ / ‖ref‖, with a tolerance per dtype.
 */
public abstract class SparseConvolutionConformance extends BackendConformance {
    /** Every map kind of the issue: submanifold (odd, non-cubic, dilated, 125 offsets), strided, transposed. */
    protected static final List<MapCase> CASES = List.of(
            new MapCase(ConvGeometry.submanifold(3), 1),
            new MapCase(ConvGeometry.submanifold(Int3.of(3, 1, 3), Int3.cubic(1)), 1),
            new MapCase(ConvGeometry.submanifold(Int3.cubic(3), Int3.cubic(2)), 1),
            new MapCase(ConvGeometry.submanifold(5), 2),
            new MapCase(ConvGeometry.submanifold(Int3.of(1, 3, 5), Int3.of(1, 2, 1)), 2),
            new MapCase(ConvGeometry.submanifold(1), 1),
            new MapCase(ConvGeometry.strided(2, 2), 1),
            new MapCase(ConvGeometry.strided(3, 2), 2),
            new MapCase(ConvGeometry.strided(Int3.of(2, 2, 1), Int3.of(2, 2, 1), Int3.cubic(1)), 1),
            new MapCase(ConvGeometry.strided(Int3.cubic(3), Int3.cubic(2), Int3.cubic(2)), 1),
            new MapCase(ConvGeometry.transposed(2, 2), 1),
            new MapCase(ConvGeometry.transposed(3, 2), 2),
            new MapCase(ConvGeometry.transposed(Int3.of(2, 2, 1), Int3.of(2, 2, 1), Int3.cubic(1)), 2));

    /** A geometry applied to a random cloud at {@code tensorStride} (the fine stride, for a transposed case). */
    public record MapCase(ConvGeometry geometry, int tensorStride) {
    }

    /** The dataflows this backend runs; the CPU reference has one function whatever is asked. */
    protected abstract List<Dataflow> dataflows();

    /** The relative-error bound for inputs and outputs of {@code dtype}. */
    protected double tolerance(DType dtype) {
        return dtype == DType.F16 ? 2e-3 : 1e-6;
    }

    /** A random cloud: two samples in a small box, on the grid of {@code stride}, about a third occupied. */
    public static CoordinateSet randomCloud(SplittableRandom random, int stride, int cells, double occupancy) {
        Set<List<Integer>> rows = new LinkedHashSet<>();
        for (int b = 0; b < 2; b++) {
            for (int x = -cells / 2; x < cells - cells / 2; x++) {
                for (int y = -cells / 2; y < cells - cells / 2; y++) {
                    for (int z = -cells / 2; z < cells - cells / 2; z++) {
                        if (random.nextDouble() < occupancy) {
                            rows.add(List.of(b, x * stride, y * stride, z * stride));
                        }
                    }
                }
            }
        }
        List<List<Integer>> shuffled = new ArrayList<>(rows);
        java.util.Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
        int[] coordinates = new int[4 * shuffled.size()];
        for (int r = 0; r < shuffled.size(); r++) {
            for (int a = 0; a < 4; a++) {
                coordinates[4 * r + a] = shuffled.get(r).get(a);
            }
        }
        return CoordinateSet.of(coordinates, new int[] {stride, stride, stride});
    }

    /** The map of {@code c} on {@code fine}; a transposed case first downsamples with the inverse geometry. */
    public static KernelMap mapFor(MapCase c, CoordinateSet fine) {
        if (!c.geometry().transposed()) {
            return fine.kernelMap(c.geometry());
        }
        CoordinateSet coarse = fine.kernelMap(c.geometry().inverse()).outputs();
        return coarse.kernelMap(c.geometry());
    }

    @Test
    void everyMapKindMatchesTheDenseConvolution() {
        SplittableRandom random = TestData.random("sparseConvolution");
        for (MapCase c : CASES) {
            for (DType dtype : List.of(DType.F32, DType.F16)) {
                for (Dataflow dataflow : dataflows()) {
                    KernelMap map = mapFor(c, randomCloud(random, c.tensorStride(), 7 + random.nextInt(4), 0.3));
                    int in = 1 + random.nextInt(12);
                    int out = 1 + random.nextInt(12);
                    check(random, map, in, out, dtype, dataflow, c.toString());
                }
            }
        }
    }

    @Test
    void tensorCoreShapedChannelsMatch() {
        SplittableRandom random = TestData.random("sparseConvolutionWide");
        KernelMap map = mapFor(CASES.getFirst(), randomCloud(random, 1, 12, 0.25));
        for (DType dtype : List.of(DType.F32, DType.F16)) {
            for (Dataflow dataflow : dataflows()) {
                for (int[] channels : new int[][] {{16, 16}, {32, 64}, {64, 32}, {17, 40}}) {
                    check(random, map, channels[0], channels[1], dtype, dataflow, "channels " + channels[0] + "->"
                            + channels[1]);
                }
            }
        }
    }

    /** Runs the backend on random features and weights and compares with the dense convolution. */
    protected void check(SplittableRandom random, KernelMap map, int in, int out, DType dtype, Dataflow dataflow,
                         String what) {
        float[] x = TestData.uniform(random, map.inputCount() * in, 1f, dtype);
        float[] w = TestData.uniform(random, map.volume() * in * out, 0.5f, dtype);
        boolean withBias = random.nextBoolean();
        float[] bias = TestData.uniform(random, out, 0.5f, DType.F32);
        Activation activation = random.nextBoolean() ? Activation.RELU : Activation.NONE;
        ConvGeometry g = map.geometry();
        Int3 grid = g.transposed() ? map.outputs().tensorStride() : map.inputs().tensorStride();
        double[] expected = DenseConvolution.convolve(map.inputs().coordinates(), x, in, w, out,
                g.kernelSize().toArray(), g.dilation().times(grid).toArray(), g.transposed(),
                map.outputs().coordinates());
        for (int i = 0; i < expected.length; i++) {
            expected[i] = activation.apply(expected[i] + (withBias ? bias[i % out] : 0.0));
        }
        DeviceArray xs = HostData.upload(backend, dtype, Shape.of(map.inputCount(), in), x);
        DeviceArray ws = HostData.upload(backend, dtype, Shape.of(map.volume(), in, out), w);
        DeviceArray bs = HostData.upload(backend, DType.F32, Shape.of(out), bias);
        DeviceArray ys = poisoned(dtype, Shape.of(map.outputCount(), out));
        try {
            backend.ops().convolution().sparseConvolution(xs, map, ws, withBias ? bs : null, activation, dataflow, ys);
            float[] y = HostData.downloadFloats(backend, ys);
            double error = relativeError(y, expected);
            assertTrue(error <= tolerance(dtype), what + " " + dtype + " " + dataflow + " in " + in + " out " + out
                    + " " + map + ": relative error " + error + " > " + tolerance(dtype));
        } finally {
            for (DeviceArray a : List.of(xs, ws, bs, ys)) {
                a.buffer().close();
            }
        }
    }

    /** ‖y − ref‖ / ‖ref‖ (‖y‖ when ref is all zeros); NaN anywhere gives NaN, which fails every bound. */
    public static double relativeError(float[] y, double[] expected) {
        assertEquals(expected.length, y.length);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < y.length; i++) {
            diff += (y[i] - expected[i]) * (y[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }

    @Test
    void badArgumentsAreClearErrors() {
        SplittableRandom random = TestData.random("sparseConvolutionArguments");
        KernelMap map = randomCloud(random, 1, 6, 0.3).kernelMap(ConvGeometry.submanifold(3));
        DeviceArray x = HostData.upload(backend, DType.F32, Shape.of(map.inputCount(), 4),
                new float[map.inputCount() * 4]);
        DeviceArray w = HostData.upload(backend, DType.F32, Shape.of(27, 5, 8), new float[27 * 5 * 8]);
        DeviceArray y = poisoned(DType.F32, Shape.of(map.outputCount(), 8));
        DeviceArray x16 = HostData.upload(backend, DType.F16, Shape.of(map.inputCount(), 5),
                new float[map.inputCount() * 5]);
        try {
            ConvolutionOps ops = backend.ops().convolution();
            InvalidInputException channels = assertThrows(InvalidInputException.class,
                    () -> ops.sparseConvolution(x, map, w, null, Activation.NONE, Dataflow.IMPLICIT_GEMM, y));
            assertTrue(channels.getMessage().contains("channel mismatch"), channels.getMessage());
            assertThrows(InvalidInputException.class,
                    () -> ops.sparseConvolution(x16, map, w, null, Activation.NONE, Dataflow.IMPLICIT_GEMM, y));
            KernelMap other = randomCloud(random, 1, 6, 0.3).kernelMap(ConvGeometry.submanifold(3));
            if (other.inputCount() != map.inputCount()) {
                assertThrows(InvalidInputException.class, () -> ops.sparseConvolution(x, other, w, null,
                        Activation.NONE, Dataflow.GATHER_GEMM_SCATTER, y));
            }
            assertThrows(InvalidInputException.class,
                    () -> ops.sparseConvolution(x, map, w, null, Activation.GELU, Dataflow.IMPLICIT_GEMM, y));
        } finally {
            for (DeviceArray a : List.of(x, w, y, x16)) {
                a.buffer().close();
            }
        }
    }

    @Test
    void mapTablesMatchTheHostMaps() {
        SplittableRandom random = TestData.random("mapTables");
        for (MapCase c : CASES) {
            if (c.geometry().transposed()) {
                continue;
            }
            CoordinateSet cloud = randomCloud(random, c.tensorStride(), 9, 0.3);
            KernelMap map = cloud.kernelMap(c.geometry());
            MapTables built = backend.ops().convolution().buildMapTables(cloud, map.outputs(), c.geometry());
            assertTrue(map.tables().sameAs(built), c + ": " + map.tables().firstDifference(built));
        }
        assertThrows(InvalidInputException.class, () -> backend.ops().convolution().buildMapTables(
                randomCloud(random, 1, 4, 0.5), randomCloud(random, 1, 4, 0.5), ConvGeometry.strided(2, 2)));
    }

    @Test
    void mapsAreSharedByLayersWithTheSameKey() {
        CoordinateSet cloud = randomCloud(TestData.random("mapCache"), 1, 6, 0.3);
        KernelMap first = cloud.kernelMap(ConvGeometry.submanifold(3));
        assertSame(first, cloud.kernelMap(ConvGeometry.submanifold(3)));
        KernelMap down = cloud.kernelMap(ConvGeometry.strided(2, 2));
        KernelMap up = down.outputs().kernelMap(ConvGeometry.transposed(2, 2));
        assertSame(cloud, up.outputs(), "upsampling lands on the coordinates the downsampling came from");
        assertEquals(down.totalPairs(), up.totalPairs());
        assertEquals(2, cloud.cachedMaps());
    }

    /**
     * Every map kind held by the backend ({@link ConvolutionOps#residentMap}) holds exactly the host map's tables
     * (the CUDA backend builds them with the map kernels, the strided outputs' keys and the transposed query
     * included), is cached on its input set per geometry, and is freed when the set closes; a later request builds it
     * again. The sets' keys are held too, a downsampling's output keys equal to the host's output set.
     */
    @Test
    void residentMapsHoldTheHostTablesForEveryKindAndAreFreedWithTheirSet() {
        SplittableRandom random = TestData.random("residentMaps");
        ConvolutionOps ops = backend.ops().convolution();
        for (MapCase c : CASES) {
            CoordinateSet fine = randomCloud(random, c.tensorStride(), 9, 0.3);
            KernelMap map = mapFor(c, fine);
            ResidentKernelMap resident = ops.residentMap(map);
            assertSame(resident, ops.residentMap(map), c + ": cached on the input set");
            MapTables want = map.tables();
            MapTables got = new MapTables(map.volume(), HostData.downloadInts(backend, resident.neighbours()),
                    HostData.downloadLongs(backend, resident.masks()),
                    HostData.downloadLongs(backend, resident.pairStart()),
                    HostData.downloadInts(backend, resident.pairInputs()),
                    HostData.downloadInts(backend, resident.pairOutputs()));
            assertTrue(want.sameAs(got), c + ": " + want.firstDifference(got));
            assertEquals(java.util.Arrays.toString(map.outputs().keys()),
                    java.util.Arrays.toString(HostData.downloadLongs(backend, ops.coordinateKeys(map.outputs()))),
                    c + ": the output set's keys");
            DeviceArray unpacked = poisoned(DType.I32, Shape.of(map.outputCount(), 4));
            ops.unpackCoordinates(ops.coordinateKeys(map.outputs()), unpacked);
            assertEquals(java.util.Arrays.toString(map.outputs().coordinates()),
                    java.util.Arrays.toString(HostData.downloadInts(backend, unpacked)), c + ": unpacked coordinates");
            unpacked.buffer().close();
            assertTrue(map.inputs().isResident(), c + ": held by the input set");
            map.inputs().close();
            assertTrue(resident.isClosed(), c + ": freed with its input set");
            assertThrows(ResourceClosedException.class, resident::neighbours);
            ResidentKernelMap again = ops.residentMap(map);
            assertTrue(again != resident && !again.isClosed(), c + ": built again after the set closed");
            fine.close();
            map.inputs().close();
            map.outputs().close();
        }
    }

    @Test
    void unpackingRefusesKeysAndCoordinatesOfTheWrongShape() {
        CoordinateSet cloud = randomCloud(TestData.random("unpack"), 1, 5, 0.3);
        ConvolutionOps ops = backend.ops().convolution();
        DeviceArray keys = ops.coordinateKeys(cloud);
        DeviceArray narrow = poisoned(DType.I32, Shape.of(cloud.size(), 3));
        DeviceArray floats = poisoned(DType.F32, Shape.of(cloud.size(), 4));
        assertThrows(InvalidInputException.class, () -> ops.unpackCoordinates(keys, narrow));
        assertThrows(InvalidInputException.class, () -> ops.unpackCoordinates(keys, floats));
        assertThrows(InvalidInputException.class, () -> ops.unpackCoordinates(narrow, floats));
        narrow.buffer().close();
        floats.buffer().close();
        cloud.close();
    }

    @Test
    void aSetIsFreedWhenItsLastHolderReleasesIt() {
        CoordinateSet cloud = randomCloud(TestData.random("setHolders"), 1, 6, 0.3);
        ConvolutionOps ops = backend.ops().convolution();
        cloud.retain();
        cloud.retain();
        ResidentKernelMap map = ops.residentMap(cloud.kernelMap(ConvGeometry.submanifold(3)));
        cloud.release();
        assertTrue(cloud.isResident() && !map.isClosed(), "one holder left");
        cloud.release();
        assertTrue(!cloud.isResident() && map.isClosed(), "the last holder frees the backend's state");
        assertEquals(1, cloud.cachedMaps(), "the host map stays");
    }

    @Test
    void repeatedCoordinatesAreRefusedBeforeAnyMapIsBuilt() {
        assertThrows(InvalidInputException.class, () -> CoordinateSet.of(new int[] {0, 1, 2, 3, 0, 5, 5, 5,
                0, 1, 2, 3}, new int[] {1, 1, 1}));
        assertThrows(InvalidInputException.class, () -> CoordinateSet.ofKeys(new long[] {7L, 9L, 7L},
                new int[] {1, 1, 1}));
    }
}
