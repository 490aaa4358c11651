package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.SparseConvolutionConformance;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.KittiSweep;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.testing.TestData;

/**
 * The serving CPU sparse convolution against the reference backend beyond the conformance suite: 27 and 125
 * offsets, outputs no offset reaches, strided and transposed maps, ragged channel counts, F32 and F16, the Vector
 * API and the scalar path, the same bits with 1, 2 and 3 threads, and the real KITTI sweep; and the backend's map
 * builder, the reference's tables bit for bit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuSparseConvolutionKernelTest {
    private Backend reference;
    private Backend vector1;
    private Backend vector3;
    private Backend scalar1;
    private Backend scalar2;

    @BeforeAll
    void open() {
        reference = new ReferenceBackendProvider().open(0);
        vector1 = new CpuBackendProvider().open(0, new CpuOptions(1, true, false));
        vector3 = new CpuBackendProvider().open(0, new CpuOptions(3, true, false));
        scalar1 = new CpuBackendProvider().open(0, new CpuOptions(1, false, false));
        scalar2 = new CpuBackendProvider().open(0, new CpuOptions(2, false, false));
    }

    @AfterAll
    void close() {
        for (Backend b : List.of(reference, vector1, vector3, scalar1, scalar2)) {
            b.close();
        }
    }

    @Test
    void mapKindsAndRaggedChannelsMatchTheReferenceWithTheSameBitsOnAnyThreadCount() {
        SplittableRandom random = TestData.random("cpuSparseConvolutionMaps");
        // Kernel 1 at stride 2 reaches only the inputs already on the coarse grid: many outputs have no neighbour.
        List<ConvGeometry> geometries = List.of(ConvGeometry.submanifold(3), ConvGeometry.submanifold(5),
                ConvGeometry.strided(1, 2), ConvGeometry.strided(3, 2), ConvGeometry.transposed(2, 2),
                ConvGeometry.transposed(3, 2));
        boolean sawEmptyRows = false;
        for (ConvGeometry geometry : geometries) {
            KernelMap map = SparseConvolutionConformance.mapFor(new SparseConvolutionConformance.MapCase(geometry, 1),
                    SparseConvolutionConformance.randomCloud(random, 1, 11, 0.2));
            sawEmptyRows |= hasEmptyRow(map);
            for (int[] channels : new int[][] {{3, 33}, {17, 40}, {48, 70}}) {
                for (DType dtype : List.of(DType.F32, DType.F16)) {
                    compare(random, map, channels[0], channels[1], dtype, geometry + " " + channels[0] + "->"
                            + channels[1]);
                }
            }
        }
        assertTrue(sawEmptyRows, "some map has an output row without neighbours");
    }

    @Test
    void theKittiSweepMatchesTheReference() {
        CoordinateSet cloud = KittiSweep.voxels(0.05);
        SplittableRandom random = TestData.random("cpuSparseConvolutionKitti");
        KernelMap submanifold = cloud.kernelMap(ConvGeometry.submanifold(3));
        compare(random, submanifold, 16, 32, DType.F32, "KITTI 5 cm, 3x3x3");
        KernelMap down = cloud.kernelMap(ConvGeometry.strided(2, 2));
        compare(random, down, 32, 64, DType.F16, "KITTI 5 cm, k2s2");
        compare(random, down.outputs().kernelMap(ConvGeometry.transposed(2, 2)), 24, 16, DType.F32,
                "KITTI 5 cm, transposed k2s2");
    }

    @Test
    void mapTablesAreTheReferenceOnesOnTheSweepWithAnyThreadCount() {
        CoordinateSet cloud = KittiSweep.voxels(0.05);
        for (ConvGeometry geometry : List.of(ConvGeometry.submanifold(3), ConvGeometry.strided(2, 2))) {
            KernelMap map = cloud.kernelMap(geometry);
            MapTables expected = reference.ops().convolution().buildMapTables(cloud, map.outputs(), geometry);
            for (Backend serving : List.of(vector1, vector3, scalar2)) {
                MapTables built = serving.ops().convolution().buildMapTables(cloud, map.outputs(), geometry);
                assertTrue(expected.sameAs(built), geometry + ": " + expected.firstDifference(built));
            }
        }
    }

    @Test
    void pointwiseConvolutionsRunAsADenseGemmMatchingTheReferenceWithTheSameBitsOnAnyThreadCount() {
        SplittableRandom random = TestData.random("cpuSparseConvolutionPointwise");
        KernelMap kitti = KittiSweep.voxels(0.05).kernelMap(ConvGeometry.submanifold(1));
        KernelMap small = SparseConvolutionConformance.mapFor(new SparseConvolutionConformance.MapCase(
                ConvGeometry.submanifold(1), 1), SparseConvolutionConformance.randomCloud(random, 1, 7, 0.4));
        assertTrue(CpuPointwiseConvolution.isIdentity(kitti) && CpuPointwiseConvolution.isIdentity(small),
                "a 1x1x1 map on its own coordinates is the identity");
        try (Backend blas1 = new CpuBackendProvider().open(0, new CpuOptions(1, true, true));
             Backend blas3 = new CpuBackendProvider().open(0, new CpuOptions(3, true, true))) {
            // The sweep once (its reference is the slow part), the small cloud over ragged widths and both dtypes.
            compareDense(random, kitti, 40, 24, DType.F32, blas1, blas3);
            for (int[] channels : new int[][] {{128, 96}, {3, 33}, {64, 128}}) {
                for (DType dtype : List.of(DType.F32, DType.F16)) {
                    compareDense(random, small, channels[0], channels[1], dtype, blas1, blas3);
                }
            }
        }
    }

    private void compareDense(SplittableRandom random, KernelMap map, int in, int out, DType dtype, Backend blas1,
                              Backend blas3) {
        float[] x = TestData.uniform(random, map.inputCount() * in, 1f, dtype);
        float[] w = TestData.uniform(random, in * out, 0.5f, dtype);
        float[] bias = TestData.uniform(random, out, 0.5f, DType.F32);
        String label = map + " " + in + "->" + out + " " + dtype;
        float[] expected = run(reference, map, x, in, w, out, bias, Activation.RELU, dtype);
        float[] dense = run(blas1, map, x, in, w, out, bias, Activation.RELU, dtype);
        double tolerance = dtype == DType.F16 ? 2e-3 : 1e-5;
        assertTrue(relativeError(dense, expected) <= tolerance, label + ": " + relativeError(dense, expected));
        assertArrayEquals(dense, run(blas3, map, x, in, w, out, bias, Activation.RELU, dtype),
                "1 vs 3 threads " + label);
    }

    @Test
    void aWeightIsWidenedOnceAndARewrittenWeightIsReadAfresh() {
        SplittableRandom random = TestData.random("cpuSparseConvolutionWeightForms");
        KernelMap map = SparseConvolutionConformance.mapFor(new SparseConvolutionConformance.MapCase(
                ConvGeometry.submanifold(3), 1), SparseConvolutionConformance.randomCloud(random, 1, 9, 0.3));
        int in = 20;
        int out = 36;
        float[] x = TestData.uniform(random, map.inputCount() * in, 1f, DType.F16);
        float[] first = TestData.uniform(random, map.volume() * in * out, 0.5f, DType.F16);
        float[] second = TestData.uniform(random, map.volume() * in * out, 0.5f, DType.F16);
        CpuOptions options = new CpuOptions(2, true, false);
        CpuContext context = CpuContext.open(options);
        CpuConvolutionOps conv = new CpuConvolutionOps(context);
        try (Backend backend = new CpuBackendProvider().open(0, options)) {
            DeviceArray xs = HostData.upload(backend, DType.F16, Shape.of(map.inputCount(), in), x);
            DeviceArray ws = HostData.upload(backend, DType.F16, Shape.of(map.volume(), in, out), first);
            DeviceArray ys = HostData.upload(backend, DType.F32, Shape.of(map.outputCount(), out),
                    new float[map.outputCount() * out]);
            float[] expected = run(reference, map, x, in, first, out, null, Activation.NONE, DType.F16);
            for (int call = 0; call < 2; call++) {
                conv.sparseConvolution(xs, map, ws, null, Activation.NONE, Dataflow.IMPLICIT_GEMM, ys);
                assertTrue(relativeError(HostData.downloadFloats(backend, ys), expected) <= 2e-3, "call " + call);
            }
            assertEquals(1, conv.cachedWeights(), "widened once for two calls");

            // New contents uploaded into the same buffer, at the same offset, dtype and shape.
            DeviceArray staged = HostData.upload(backend, DType.F16, Shape.of(map.volume(), in, out), second);
            long bytes = ws.buffer().byteSize();
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment host = arena.allocate(bytes);
                backend.download(staged.buffer(), 0, host, bytes);
                backend.upload(host, ws.buffer(), 0, bytes);
            }
            conv.sparseConvolution(xs, map, ws, null, Activation.NONE, Dataflow.IMPLICIT_GEMM, ys);
            float[] rewritten = run(reference, map, x, in, second, out, null, Activation.NONE, DType.F16);
            assertTrue(relativeError(HostData.downloadFloats(backend, ys), rewritten) <= 2e-3,
                    "the rewritten weight is read afresh");
            assertEquals(1, conv.cachedWeights(), "the stale form is dropped");
        } finally {
            conv.close();
            context.threads().close();
        }
    }

    private static boolean hasEmptyRow(KernelMap map) {
        for (int row = 0; row < map.outputCount(); row++) {
            boolean any = false;
            for (int w = 0; w < map.maskWords(); w++) {
                any |= map.mask(row, w) != 0;
            }
            if (!any) {
                return true;
            }
        }
        return false;
    }

    /** Every serving variant against the reference; variants that differ only in threads, bit for bit. */
    private void compare(SplittableRandom random, KernelMap map, int in, int out, DType dtype, String what) {
        float[] x = TestData.uniform(random, map.inputCount() * in, 1f, dtype);
        float[] w = TestData.uniform(random, map.volume() * in * out, 0.5f, dtype);
        float[] bias = random.nextBoolean() ? TestData.uniform(random, out, 0.5f, DType.F32) : null;
        Activation activation = random.nextBoolean() ? Activation.RELU : Activation.NONE;
        float[] expected = run(reference, map, x, in, w, out, bias, activation, dtype);
        double tolerance = dtype == DType.F16 ? 2e-3 : 1e-5;
        float[] vector = run(vector1, map, x, in, w, out, bias, activation, dtype);
        float[] scalar = run(scalar1, map, x, in, w, out, bias, activation, dtype);
        String label = what + " " + dtype + " " + activation + (bias == null ? "" : " +bias") + " " + map;
        assertTrue(relativeError(vector, expected) <= tolerance, "vector " + label + ": "
                + relativeError(vector, expected));
        assertTrue(relativeError(scalar, expected) <= tolerance, "scalar " + label + ": "
                + relativeError(scalar, expected));
        assertArrayEquals(vector, run(vector3, map, x, in, w, out, bias, activation, dtype), "1 vs 3 threads " + label);
        assertArrayEquals(scalar, run(scalar2, map, x, in, w, out, bias, activation, dtype), "1 vs 2 threads " + label);
    }

    private static float[] run(Backend backend, KernelMap map, float[] x, int in, float[] w, int out, float[] bias,
                               Activation activation, DType dtype) {
        DeviceArray xs = HostData.upload(backend, dtype, Shape.of(map.inputCount(), in), x);
        DeviceArray ws = HostData.upload(backend, dtype, Shape.of(map.volume(), in, out), w);
        DeviceArray bs = bias == null ? null : HostData.upload(backend, DType.F32, Shape.of(out), bias);
        Shape shape = Shape.of(map.outputCount(), out);
        DeviceArray ys = new DeviceArray(backend.allocate(shape.elementCount() * dtype.byteSize()), 0, dtype, shape);
        backend.fill(ys.buffer(), 0, ys.byteSize(), (byte) 0xFF);
        try {
            backend.ops().convolution().sparseConvolution(xs, map, ws, bs, activation, Dataflow.IMPLICIT_GEMM, ys);
            return HostData.downloadFloats(backend, ys);
        } finally {
            xs.buffer().close();
            ws.buffer().close();
            ys.buffer().close();
            if (bs != null) {
                bs.buffer().close();
            }
        }
    }

    private static double relativeError(float[] y, float[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < y.length; i++) {
            diff += ((double) y[i] - expected[i]) * ((double) y[i] - expected[i]);
            norm += (double) expected[i] * expected[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }
}
