package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.BackendProvider;

/** The benchmark end to end on the CPU backend, whose linear ops are the reference the GPU's are tested against. */
class TwoFourGemmBenchmarkTest {
    private static final MeasurementPlan QUICK = new MeasurementPlan(2, 0, 6, 3, 1_000, 0);

    private Backend backend;

    @BeforeEach
    void openCpuBackend() {
        backend = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu")).findFirst()
                .orElseThrow(() -> new AssertionError("the runtime registers no 'cpu' BackendProvider")).open(0);
    }

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void isRegisteredUnderItsName() {
        assertTrue(GpuBenchMain.registeredBenchmarks(java.util.regex.Pattern.compile("two-four")).stream()
                .anyMatch(b -> b instanceof TwoFourGemmBenchmark && b.name().equals("two-four-gemm")));
    }

    @Test
    void eachCaseGivesATwoFourResultAnchoredOnDenseWithCheckedOutputs() {
        BenchContext context = new BenchContext(backend, QUICK, 1 << 20, Optional.of(
                new DevicePeaks.PeakBandwidth(100, "test")));
        List<BenchResult> results = new TwoFourGemmBenchmark("8x128x64,3x130x70-bf16").run(context);

        assertEquals(List.of("twofour", "dense", "twofour", "dense"), results.stream().map(BenchResult::name).toList());
        BenchResult twoFour = results.get(0);
        BenchResult dense = results.get(1);
        assertEquals("custom-128x64-t8-f16", twoFour.params().get("case"));
        assertEquals(twoFour.params(), dense.params());
        assertEquals("ok", twoFour.params().get("outputCheck"));
        assertEquals(2L * 8 * 128 * 64, twoFour.flops());
        assertEquals(twoFour.flops(), dense.flops());
        long activations = 2L * (8 * 64 + 8 * 128);
        assertEquals(activations + 2L * 128 * 64, dense.bytes());
        // The 2:4 weight as stored: 128 x 32 kept values and 128 x 64 / 16 bytes of indices.
        assertEquals(activations + 128 * 32 * 2 + 128 * 64 / 8, twoFour.bytes());
        assertEquals("dense", twoFour.anchor().name());
        assertEquals(dense.medianMs() / twoFour.medianMs(), twoFour.anchor().speedup(), 1e-12);
        assertEquals(null, dense.anchor());

        // The rotation covers X, W and Y of each copy (all 256-byte aligned), past the working-set target.
        assertTrue(dense.rotationCopies() >= InputRotation.MIN_COPIES);
        assertEquals((long) dense.rotationCopies() * (1024 + 16384 + 2048), dense.workingSetBytes());
        assertTrue(dense.workingSetBytes() >= 1 << 20);

        // Padded shapes (130 x 70 stores as 256 x 128) are checked the same way.
        assertEquals("custom-130x70-t3-bf16", results.get(2).params().get("case"));
        assertEquals("bf16", results.get(2).params().get("dtype"));
        assertEquals("ok", results.get(2).params().get("outputCheck"));
        assertEquals("ok", results.get(3).params().get("outputCheck"));
        assertEquals(2L * (3 * 70 + 3 * 130) + 256 * 64 * 2 + 256 * 128 / 8, results.get(2).bytes());
    }
}
