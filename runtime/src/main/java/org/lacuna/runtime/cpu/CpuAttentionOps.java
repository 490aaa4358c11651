package org.lacuna.runtime.cpu;

import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.ops.AttentionOps;

/** Token-dropping attention and the transformer-block ops of the serving CPU backend. */
final class CpuAttentionOps implements AttentionOps {
    private final CpuContext context;
    private final ReferenceAttentionOps reference = new ReferenceAttentionOps(CpuBackendProvider.NAME);

    CpuAttentionOps(CpuContext context) {
        this.context = context;
    }

    @Override
    public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                             TokenSelection out) {
        reference.selectTokens(scores, batch, pinMask, rule, out);
    }

    @Override
    public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
        reference.gatherRows(x, selection, out);
    }

    @Override
    public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
        reference.scatterRows(kept, selection, passThrough, out);
    }

    @Override
    public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                          DeviceArray logSumExp) {
        reference.attention(inputs, batch, options, out, logSumExp);
    }

    @Override
    public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        reference.keyAttention(inputs, batch, options, logSumExp, score, scores);
    }

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        reference.layerNorm(x, gamma, beta, epsilon, y);
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        reference.add(a, b, y);
    }
}
