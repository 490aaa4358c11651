package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
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
import org.lacuna.runtime.testing.GpuSupport;
import org.lacuna.runtime.testing.GpuTest;
import org.lacuna.runtime.testing.TestData;

/**
 * Both GPU dataflows against the dense convolution (inherited: every map kind, random clouds) and against the CPU
 * reference on the real KITTI sweep, fp32 and fp16, by relative error.
 */
@GpuTest
class CudaSparseConvolutionGpuTest extends SparseConvolutionConformance {
    @Override
    protected Backend openBackend() {
        return GpuSupport.openCudaOrSkip();
    }

    @Override
    protected List<Dataflow> dataflows() {
        return List.of(Dataflow.values());
    }

    /** fp32: only the summation order differs from the reference; fp16: inputs exact, one rounding of the output. */
    @Override
    protected double tolerance(DType dtype) {
        return dtype == DType.F16 ? 2e-3 : 1e-5;
    }

    @Test
    void theKittiSweepMatchesTheCpuReference() {
        SplittableRandom random = TestData.random("kittiSparseConvolution");
        CoordinateSet cloud = KittiSweep.voxels(0.05);
        try (Backend cpu = new ReferenceBackendProvider().open(0)) {
            for (ConvGeometry geometry : List.of(ConvGeometry.submanifold(3), ConvGeometry.strided(2, 2))) {
                KernelMap map = cloud.kernelMap(geometry);
                for (DType dtype : List.of(DType.F32, DType.F16)) {
                    int in = 16;
                    int out = 32;
                    float[] x = TestData.uniform(random, map.inputCount() * in, 1f, dtype);
                    float[] w = TestData.uniform(random, map.volume() * in * out, 0.25f, dtype);
                    float[] bias = TestData.uniform(random, out, 0.5f, DType.F32);
                    float[] ref = run(cpu, map, x, w, bias, in, out, dtype, Dataflow.IMPLICIT_GEMM);
                    for (Dataflow dataflow : Dataflow.values()) {
                        float[] gpu = run(backend, map, x, w, bias, in, out, dtype, dataflow);
                        double[] expected = new double[ref.length];
                        for (int i = 0; i < ref.length; i++) {
                            expected[i] = ref[i];
                        }
                        double error = relativeError(gpu, expected);
                        System.out.printf("KITTI %s %s %s: relative error %.3g%n", geometry, dtype, dataflow, error);
                        assertTrue(error <= tolerance(dtype), geometry + " " + dtype + " " + dataflow + ": " + error);
                    }
                }
            }
        }
    }

    @Test
    void theDeviceHashTableBuildsTheKittiMaps() {
        CoordinateSet cloud = KittiSweep.voxels(0.05);
        for (ConvGeometry geometry : List.of(ConvGeometry.submanifold(3), ConvGeometry.submanifold(5),
                ConvGeometry.strided(3, 2))) {
            KernelMap map = cloud.kernelMap(geometry);
            MapTables built = backend.ops().convolution().buildMapTables(cloud, map.outputs(), geometry);
            assertTrue(map.tables().sameAs(built), geometry + ": " + map.tables().firstDifference(built));
        }
    }

    @Test
    void workspacesAreReturnedToThePool() {
        SplittableRandom random = TestData.random("sparseConvolutionWorkspaces");
        KernelMap map = randomCloud(random, 1, 12, 0.3).kernelMap(ConvGeometry.submanifold(3));
        float[] x = TestData.uniform(random, map.inputCount() * 8, 1f, DType.F32);
        float[] w = TestData.uniform(random, 27 * 8 * 8, 0.25f, DType.F32);
        float[] bias = TestData.uniform(random, 8, 0.5f, DType.F32);
        long before = backend.memoryStats().inUseBytes();
        for (Dataflow dataflow : Dataflow.values()) {
            run(backend, map, x, w, bias, 8, 8, DType.F32, dataflow);
        }
        backend.ops().convolution().buildMapTables(map.inputs(), map.outputs(), map.geometry());
        assertEquals(before, backend.memoryStats().inUseBytes(), "every temporary block is released");
    }

    @Test
    void theImplicitGemmIsDeterministic() {
        SplittableRandom random = TestData.random("implicitGemmDeterminism");
        KernelMap map = randomCloud(random, 1, 24, 0.2).kernelMap(ConvGeometry.submanifold(3));
        float[] x = TestData.uniform(random, map.inputCount() * 48, 1f, DType.F16);
        float[] w = TestData.uniform(random, 27 * 48 * 40, 0.25f, DType.F16);
        float[] bias = TestData.uniform(random, 40, 0.5f, DType.F32);
        float[] first = run(backend, map, x, w, bias, 48, 40, DType.F16, Dataflow.IMPLICIT_GEMM);
        float[] second = run(backend, map, x, w, bias, 48, 40, DType.F16, Dataflow.IMPLICIT_GEMM);
        assertArrayEquals(first, second, "bit for bit: no atomics, a fixed summation order");
    }

    private float[] run(Backend on, KernelMap map, float[] x, float[] w, float[] bias, int in, int out, DType dtype,
                        Dataflow dataflow) {
        DeviceArray xs = HostData.upload(on, dtype, Shape.of(map.inputCount(), in), x);
        DeviceArray ws = HostData.upload(on, dtype, Shape.of(map.volume(), in, out), w);
        DeviceArray bs = HostData.upload(on, DType.F32, Shape.of(out), bias);
        DeviceArray ys = new DeviceArray(on.allocate((long) map.outputCount() * out * DType.F32.byteSize()), 0,
                DType.F32, Shape.of(map.outputCount(), out));
        try {
            on.fill(ys.buffer(), 0, ys.byteSize(), (byte) 0xFF);
            on.ops().convolution().sparseConvolution(xs, map, ws, bs, Activation.RELU, dataflow, ys);
            return HostData.downloadFloats(on, ys);
        } finally {
            for (DeviceArray a : List.of(xs, ws, bs, ys)) {
                a.buffer().close();
            }
        }
    }
}
