package org.lacuna.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuSuiteTest {
    @Test
    void flopCountsFollowTheProblem() {
        assertEquals(2L * 512 * 768 * 3072, CpuCase.linearFlops(512, 768, 3072));
        // softmax(QK^T)V, 12 heads of 64, batch 1, 512 tokens: QK^T and PV are 2*S*S*D each per head.
        assertEquals(4L * 12 * 512 * 512 * 64, CpuCase.attentionFlops(1, 12, 64, 512));
        // MiniLM: per token and layer 2*(4*384^2 + 2*384*1536) + 4*128*384 = 3,735,552.
        assertEquals(6L * 128 * 3_735_552, CpuCase.encoderFlops(6, 384, 1536, 128, 1));
        assertEquals(32 * CpuCase.encoderFlops(6, 384, 1536, 128, 1), CpuCase.encoderFlops(6, 384, 1536, 128, 32));
    }

    @Test
    void theFullSuiteHoldsEveryShapeTheIssueNames() {
        CpuSuite suite = CpuSuite.full();
        assertEquals(List.of("dense-128x384x1536", "dense-512x768x3072", "dense-2048x768x3072"),
                ids(suite.of(CpuCase.Family.DENSE_LINEAR)));
        assertEquals(List.of("twofour-512x384x1536", "twofour-512x1536x384", "twofour-512x768x3072"),
                ids(suite.of(CpuCase.Family.TWO_FOUR_LINEAR)));
        assertEquals(List.of("csr-d0.05-512x768x3072", "csr-d0.10-512x768x3072"),
                ids(suite.of(CpuCase.Family.CSR_LINEAR)));
        List<String> attention = ids(suite.of(CpuCase.Family.ATTENTION));
        assertEquals(8, attention.size());
        assertTrue(attention.containsAll(List.of("attn-h12d64-b1-s512", "attn-h12d32-b8-s128")));
        assertEquals(4, suite.of(CpuCase.Family.ATTENTION_KEPT).size());
        assertEquals(4, suite.of(CpuCase.Family.DROPPING_OVERHEAD).size());
        assertEquals(List.of("encoder-l6h384-s128-b1", "encoder-l6h384-s128-b32"),
                ids(suite.of(CpuCase.Family.ENCODER)));
        assertEquals(List.of("tiny-linear-1x64x64"), ids(suite.of(CpuCase.Family.TINY_OP)));
        assertEquals(32, suite.encoderHeadDim());
        assertEquals(suite.cases().size(), new HashSet<>(ids(suite.cases())).size(), "ids are unique");
    }

    @Test
    void keptAttentionCountsFlopsAtTheKeptLength() {
        CpuCase kept = CpuSuite.full().find("attn-h12d64-b1-s512-kept0.5");
        assertEquals(256, kept.intParam("keptPerSequence"));
        assertEquals(CpuCase.attentionFlops(1, 12, 64, 256), kept.flops());
        assertEquals(0, CpuSuite.full().find("attn-h12d64-b1-s512-overhead0.5").flops());
    }

    @Test
    void quickSuiteCoversEveryFamilyButMinkunet() {
        var families = new HashSet<CpuCase.Family>();
        CpuSuite.quick().cases().forEach(c -> families.add(c.family()));
        families.add(CpuCase.Family.MINKUNET); // added by the runner once the maps exist
        assertEquals(new HashSet<>(List.of(CpuCase.Family.values())), families);
        assertTrue(CpuSuite.quick().syntheticVoxels() > 0);
    }

    @Test
    void minkunetCaseIdIsTheSparseConvAnchors() {
        assertEquals(org.lacuna.bench.gpu.SparseConvBenchmark.endToEndCase(1), CpuCase.minkunet(1, "x", 10).id());
    }

    private static List<String> ids(List<CpuCase> cases) {
        return cases.stream().map(CpuCase::id).toList();
    }
}
