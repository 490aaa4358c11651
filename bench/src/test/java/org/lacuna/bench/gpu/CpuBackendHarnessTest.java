package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;

/** The harness end to end on the CPU backend, which implements the same Backend contract as CUDA. */
class CpuBackendHarnessTest {
    private static final MeasurementPlan QUICK = new MeasurementPlan(2, 0, 12, 5, 1_000, 0);

    private Backend backend;

    @BeforeEach
    void openCpuBackend() {
        BackendProvider cpu = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu")).findFirst()
                .orElseThrow(() -> new AssertionError("the runtime registers no 'cpu' BackendProvider"));
        backend = cpu.open(0);
    }

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void everyCopyHoldsTheUploadedArraysAtTheirOffsets() {
        BenchContext context = new BenchContext(backend, QUICK, 64 << 10, Optional.empty());
        List<ArraySpec> specs = List.of(ArraySpec.of(DType.I32, 3), ArraySpec.of(DType.F32, 5));
        try (Arena arena = Arena.ofConfined();
             RotatingArrays inputs = context.allocateRotating(specs)) {
            MemorySegment ints = arena.allocateFrom(ValueLayout.JAVA_INT, 7, 8, 9);
            MemorySegment floats = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f);
            inputs.uploadToEveryCopy(ints, floats);

            assertEquals(128, inputs.rotation().copies()); // 64 KiB over 512-byte sets
            for (long launch : new long[] {0, 1, 127, 128, 1000}) {
                DeviceArray intArray = inputs.array(launch, 0);
                DeviceArray floatArray = inputs.array(launch, 1);
                MemorySegment back = arena.allocate(20);
                backend.download(intArray.buffer(), intArray.byteOffset(), back, 12);
                assertEquals(9, back.getAtIndex(ValueLayout.JAVA_INT, 2));
                backend.download(floatArray.buffer(), floatArray.byteOffset(), back, 20);
                assertEquals(5.5f, back.getAtIndex(ValueLayout.JAVA_FLOAT, 4));
                assertEquals(inputs.rotation().copyFor(launch) * 512L + 256, floatArray.byteOffset());
            }
        }
    }

    @Test
    void aMeasuredCaseCarriesItsWorkRatesAndRotation() {
        BenchContext context = new BenchContext(backend, QUICK, 1 << 20, Optional.of(
                new DevicePeaks.PeakBandwidth(100, "test")));
        try (RotatingArrays inputs = context.allocateRotating(List.of(ArraySpec.of(DType.F32, 1 << 16)))) {
            BenchResult result = context.measure("fill")
                    .param("elements", 1 << 16)
                    .work(Work.bytesOnly(1 << 18))
                    .rotation(inputs)
                    .measure(i -> {
                        DeviceArray a = inputs.array(i, 0);
                        backend.fill(a.buffer(), a.byteOffset(), a.byteSize(), (byte) 0);
                    });
            assertEquals("fill", result.name());
            assertEquals("device", result.timer());
            assertEquals(1 << 16, result.params().get("elements"));
            assertEquals(4, result.rotationCopies());
            assertEquals(4L << 18, result.workingSetBytes());
            assertTrue(result.minMs() <= result.medianMs() && result.medianMs() <= result.p90Ms());
            assertEquals((1 << 18) / (result.medianMs() / 1e3) / 1e9, result.achievedGBps(), 1e-6);
            assertEquals(result.achievedGBps() / 100, result.peakBandwidthFraction(), 1e-9);
            assertEquals((1 << 18) / 100e9 * 1e3, result.memoryFloorMs(), 1e-12);
            assertNull(result.anchor());

            BenchResult anchored = result.withAnchor("reference", 2 * result.medianMs());
            assertEquals(2.0, anchored.anchor().speedup(), 1e-9);
        }
    }
}
