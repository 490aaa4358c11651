package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseConformance;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.testing.GpuSupport;
import org.lacuna.runtime.testing.GpuTest;
import org.lacuna.runtime.testing.TestData;

/** The CUDA backend against the formulas (inherited) and against the CPU backend on the same inputs. */
@GpuTest
class CudaElementwiseOpsGpuTest extends ElementwiseConformance {
    @Override
    protected Backend openBackend() {
        return GpuSupport.openCudaOrSkip();
    }

    @Test
    void largeRaggedInputsMatchTheCpuBackend() {
        SplittableRandom random = TestData.random("largeRagged");
        try (Backend cpu = new ReferenceBackendProvider().open(0)) {
            for (Shape shape : new Shape[] {Shape.of(4097, 769), Shape.of(1, 3_000_001), Shape.of(65_537, 3)}) {
                float[] x = TestData.uniform(random, (int) shape.elementCount(), 3f, DType.F16);
                float[] bias = TestData.uniform(random, (int) shape.columns(), 1f, DType.F32);
                float[] gpu = run(backend, shape, x, bias);
                float[] ref = run(cpu, shape, x, bias);
                for (int i = 0; i < ref.length; i++) {
                    assertEquals(ref[i], gpu[i], TestData.ulp(DType.BF16, ref[i]) + 1e-6, shape + " at " + i);
                }
                DeviceArray xs = HostData.upload(backend, DType.F16, shape, x);
                DeviceArray norms = poisoned(DType.F32, Shape.of(shape.rows()));
                backend.ops().elementwise().rowReduce(xs, RowReduction.L2, norms);
                DeviceArray cx = HostData.upload(cpu, DType.F16, shape, x);
                DeviceArray cn = HostData.upload(cpu, DType.F32, Shape.of(shape.rows()), new float[(int) shape.rows()]);
                cpu.ops().elementwise().rowReduce(cx, RowReduction.L2, cn);
                float[] g = HostData.downloadFloats(backend, norms);
                float[] c = HostData.downloadFloats(cpu, cn);
                for (int r = 0; r < c.length; r++) {
                    assertEquals(c[r], g[r], 1e-5 * c[r] + 1e-6, "L2 row " + r);
                }
                xs.buffer().close();
                norms.buffer().close();
                cx.buffer().close();
                cn.buffer().close();
            }
        }
    }

    private float[] run(Backend on, Shape shape, float[] x, float[] bias) {
        DeviceArray xs = HostData.upload(on, DType.F16, shape, x);
        DeviceArray bs = HostData.upload(on, DType.F32, Shape.of(shape.columns()), bias);
        DeviceArray ys = new DeviceArray(on.allocate(shape.elementCount() * 2), 0, DType.BF16, shape);
        on.fill(ys.buffer(), 0, ys.byteSize(), (byte) 0xFF);
        try {
            on.ops().elementwise().biasActivation(xs, bs, Activation.GELU, ys);
            return HostData.downloadFloats(on, ys);
        } finally {
            xs.buffer().close();
            bs.buffer().close();
            ys.buffer().close();
        }
    }

    @Test
    void copiesRoundTripAcrossStagingChunksAndOffsets() {
        long bytes = PinnedStaging.CHUNK_BYTES * 2 + 12_345;
        try (Arena arena = Arena.ofConfined(); DeviceBuffer buffer = backend.allocate(bytes)) {
            MemorySegment source = arena.allocate(bytes);
            SplittableRandom random = TestData.random("copies");
            for (long i = 0; i < bytes; i++) {
                source.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
            }
            backend.upload(source, buffer, 0, bytes);
            MemorySegment back = arena.allocate(bytes);
            backend.download(buffer, 0, back, bytes);
            assertEquals(-1, source.mismatch(back));
            MemorySegment part = arena.allocate(1001);
            backend.download(buffer, 7, part, 1001);
            assertEquals(-1, part.mismatch(source.asSlice(7, 1001)));
            assertThrows(InvalidInputException.class, () -> backend.download(buffer, bytes - 10, part, 1001));
        }
    }

    @Test
    void poolReusesFreedMemoryAndClosedBuffersAreRefused() {
        DeviceBuffer first = backend.allocate(1 << 20);
        first.close();
        long allocations = backend.memoryStats().allocations();
        DeviceBuffer second = backend.allocate(1 << 20);
        assertEquals(allocations, backend.memoryStats().allocations(), "the freed block must be reused");
        second.close();
        second.close(); // idempotent
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(ResourceClosedException.class, () -> backend.upload(arena.allocate(4), second, 0, 4));
        }
    }

    @Test
    void timerMeasuresWorkOnTheStream() {
        DeviceArray x = HostData.upload(backend, DType.F32, Shape.of(1024, 1024), new float[1024 * 1024]);
        try (var timer = backend.newTimer()) {
            timer.start();
            backend.ops().elementwise().biasActivation(x, null, Activation.GELU, x);
            double millis = timer.stopMillis();
            assertTrue(millis > 0 && millis < 10_000, "elapsed " + millis);
        }
        float[] zeros = HostData.downloadFloats(backend, x);
        assertArrayEquals(new float[zeros.length], zeros);
        x.buffer().close();
    }
}
