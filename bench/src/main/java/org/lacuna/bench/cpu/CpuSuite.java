package org.lacuna.bench.cpu;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.bench.gpu.SparseConvNetwork;

/**
 * The problems of one CPU benchmark run, in the order they are measured: the shapes ({@link #full()}), or
 * tiny ones that exercise every path in seconds ({@link #quick()}). The MinkUNet case is added once its maps exist
 * (its FLOPs depend on them).
 *
 * @param cases           every case but MinkUNet
 * @param encoderHeadDim  the head dim the MiniLM-shaped encoder wants (32); a backend that lacks it runs the same
 *                        width with 64 (same FLOPs) and the record says so
 * @param minkunetChannels MinkUNet's widths cs[0..8]
 * @param syntheticVoxels  0: the KITTI sweep at 5 cm; otherwise a random cloud of this many voxels (quick mode)
 * @param onnxSequence    the sequence length of the ONNX Runtime MiniLM anchor (the encoder cases' length)
 */
public record CpuSuite(String name, List<CpuCase> cases, int encoderHeadDim,
                       int[] minkunetChannels, int syntheticVoxels, int onnxSequence) {

    public CpuSuite {
        cases = List.copyOf(cases);
    }

    /** The benchmark: every shape it names a target for. */
    public static CpuSuite full() {
        List<CpuCase> cases = new ArrayList<>();
        int[][] dense = {{128, 384, 1536}, {512, 768, 3072}, {2048, 768, 3072}};
        for (int[] s : dense) {
            cases.add(CpuCase.denseLinear(s[0], s[1], s[2]));
        }
        // 2:4 against dense on the FFN shapes (in x out) at >= 512 tokens: MiniLM's two, BERT-base's up-projection.
        int[][] twoFour = {{512, 384, 1536}, {512, 1536, 384}, {512, 768, 3072}};
        for (int[] s : twoFour) {
            cases.add(CpuCase.twoFourLinear(s[0], s[1], s[2]));
        }
        for (double density : new double[] {0.05, 0.10}) {
            cases.add(CpuCase.csrLinear(512, 768, 3072, density));
        }
        addAttention(cases, new int[][] {{12, 64}, {12, 32}}, new int[] {1, 8}, new int[] {128, 512}, 512, 0.5);
        for (int batch : new int[] {1, 32}) {
            cases.add(CpuCase.encoder(6, 384, 12, 1536, 128, batch));
        }
        cases.add(CpuCase.tinyOp(1, 64, 64));
        return new CpuSuite("full", cases, 32, SparseConvNetwork.DEFAULT_CHANNELS, 0, 128);
    }

    /** Every path at toy sizes: a smoke test of the runner, the anchors and the record (no meaningful numbers). */
    public static CpuSuite quick() {
        List<CpuCase> cases = new ArrayList<>();
        cases.add(CpuCase.denseLinear(16, 64, 128));
        cases.add(CpuCase.twoFourLinear(16, 64, 128));
        cases.add(CpuCase.csrLinear(16, 64, 128, 0.10));
        addAttention(cases, new int[][] {{2, 64}, {4, 32}}, new int[] {1}, new int[] {32}, 32, 0.5);
        cases.add(CpuCase.encoder(1, 128, 4, 256, 16, 1));
        cases.add(CpuCase.tinyOp(1, 64, 64));
        int[] channels = {8, 8, 8, 8, 8, 8, 8, 8, 8};
        return new CpuSuite("quick", cases, 32, channels, 600, 16);
    }

    /** Dense attention at every shape; kept and overhead rows at {@code droppingSequence}. */
    private static void addAttention(List<CpuCase> cases, int[][] headShapes, int[] batches, int[] sequences,
                                     int droppingSequence, double keep) {
        for (int[] h : headShapes) {
            for (int batch : batches) {
                for (int sequence : sequences) {
                    cases.add(CpuCase.attention(h[0], h[1], batch, sequence));
                    if (sequence == droppingSequence) {
                        cases.add(CpuCase.attentionKept(h[0], h[1], batch, sequence, keep,
                                keptPerSequence(sequence, keep)));
                        cases.add(CpuCase.droppingOverhead(h[0], h[1], batch, sequence, keep));
                    }
                }
            }
        }
    }

    /** Tokens a sequence keeps at {@code keep}: the runtime's rule (ceil, at least one), CLS included. */
    static int keptPerSequence(int sequence, double keep) {
        return (int) org.lacuna.runtime.attention.SelectionRule.keepRatio(keep).pinningPrefix(1)
                .maxKept(sequence, false);
    }

    public CpuCase find(String id) {
        return cases.stream().filter(c -> c.id().equals(id)).findFirst().orElse(null);
    }

    public List<CpuCase> of(CpuCase.Family family) {
        return cases.stream().filter(c -> c.family() == family).toList();
    }
}
