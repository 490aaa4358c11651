package org.lacuna.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuTargetsTest {
    static Timing timing(String name, double ms) {
        return new Timing(name, "test", name, ms, ms, ms, 10, 1, 1, null, null);
    }

    private static CpuRecord.CaseRow row(CpuCase c, Double lacunaMs, Double peerMs, Double peak) {
        return CpuRecord.CaseRow.of(c, lacunaMs == null ? Timing.failed("lacuna", "lacuna", "x", "not supported")
                : timing("lacuna", lacunaMs), peerMs == null ? null : timing("peer", peerMs), null, null, peak, null);
    }

    @Test
    void denseLinearIsJudgedAgainstPytorchAndThePeak() {
        CpuCase large = CpuCase.denseLinear(512, 768, 3072); // 2.416 GFLOP
        // Lacuna 20 ms (120.8 GFLOP/s), PyTorch 12 ms: 0.6x; of a 200 GFLOP/s peak: 60.4%.
        List<CpuTargets.Result> results = CpuTargets.evaluate(List.of(row(large, 20.0, 12.0, 200.0)), 200.0);
        assertEquals(2, results.size());
        CpuTargets.Result vsPytorch = results.get(0);
        assertEquals(CpuTargets.Status.NOT_MET, vsPytorch.status());
        assertEquals(0.6, vsPytorch.value(), 1e-12);
        assertEquals(1.5, vsPytorch.shortfall(), 1e-12);
        assertTrue(vsPytorch.summary().startsWith("not met"), vsPytorch.summary());
        CpuTargets.Result peak = results.get(1);
        assertEquals(CpuTargets.Status.MET, peak.status());
        assertEquals(2L * 512 * 768 * 3072 / 20e6 / 200.0, peak.value(), 1e-12);

        // The small shape has no peak target.
        assertEquals(1, CpuTargets.evaluate(List.of(row(CpuCase.denseLinear(128, 384, 1536), 1.0, 1.0, 200.0)),
                200.0).size());
    }

    @Test
    void sharesAndMicrosecondsAreAtMostTargets() {
        CpuCase kept = CpuCase.attentionKept(12, 64, 1, 512, 0.5, 256);
        CpuTargets.Result met = CpuTargets.evaluate(List.of(row(kept, 2.5, 10.0, null)), null).getFirst();
        assertEquals(CpuTargets.Status.MET, met.status());
        assertEquals(0.25, met.value(), 1e-12);
        CpuCase overhead = CpuCase.droppingOverhead(12, 64, 1, 512, 0.5);
        CpuTargets.Result notMet = CpuTargets.evaluate(List.of(row(overhead, 1.0, 10.0, null)), null).getFirst();
        assertEquals(CpuTargets.Status.NOT_MET, notMet.status());
        assertEquals(2.0, notMet.shortfall(), 1e-12); // 10% against 5%: needs half the time
        CpuTargets.Result tiny = CpuTargets.evaluate(List.of(row(CpuCase.tinyOp(1, 64, 64), 0.060, 0.0027, null)),
                null).getFirst();
        assertEquals(60.0, tiny.value(), 1e-9);
        assertEquals(12.0, tiny.shortfall(), 1e-9);
        assertTrue(tiny.summary().contains("µs"), tiny.summary());
    }

    @Test
    void aMissingSideIsNotMeasuredWithTheReason() {
        CpuCase attention = CpuCase.attention(12, 32, 1, 128);
        CpuTargets.Result lacunaMissing = CpuTargets.evaluate(List.of(row(attention, null, 1.0, 100.0)), 100.0)
                .getFirst();
        assertEquals(CpuTargets.Status.NOT_MEASURED, lacunaMissing.status());
        assertNull(lacunaMissing.value());
        assertTrue(lacunaMissing.summary().contains("not supported"), lacunaMissing.summary());
        CpuTargets.Result peerMissing = CpuTargets.evaluate(List.of(row(CpuCase.encoder(6, 384, 12, 1536, 128, 1),
                100.0, null, 100.0)), 100.0).getFirst();
        assertEquals(CpuTargets.Status.NOT_MEASURED, peerMissing.status());
        CpuTargets.Result noPeak = CpuTargets.evaluate(List.of(row(CpuCase.denseLinear(2048, 768, 3072), 1.0, 1.0,
                null)), null).get(1);
        assertEquals(CpuTargets.Status.NOT_MEASURED, noPeak.status());
        assertTrue(noPeak.summary().contains("no FMA peak"), noPeak.summary());
    }

    @Test
    void everyFamilyHasATarget() {
        for (CpuCase.Family family : CpuCase.Family.values()) {
            CpuCase c = new CpuCase("c", family, java.util.Map.of("tokens", 512), 1);
            assertTrue(!CpuTargets.evaluate(List.of(row(c, 1.0, 1.0, 1.0)), 1.0).isEmpty(), family.name());
        }
    }

    @Test
    void rowRatesAndSpeedUp() {
        CpuRecord.CaseRow r = row(CpuCase.denseLinear(512, 768, 3072), 24.0, 12.0, 240.0);
        assertEquals(0.5, r.speedup(), 1e-12);
        assertEquals(2L * 512 * 768 * 3072 / 24e6, r.lacunaGflops(), 1e-9);
        assertEquals(r.lacunaGflops() / 240.0, r.fractionOfPeak(), 1e-12);
        assertEquals("sentences/s: Lacuna 2.0, ONNX Runtime 50.0",
                CpuBenchMain.sentencesPerSecond(1, timing("l", 500), timing("o", 20)));
    }
}
