package org.lacuna.runtime.cpu;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.ops.AttentionContracts;
import org.lacuna.runtime.ops.AttentionOps;

/** The reference of every attention op: double precision, one rounding to the output type, checks nothing skips. */
final class ReferenceAttentionOps implements AttentionOps {
    /** The backend whose tensors this serves: the reference's own, or the serving backend it stands in for. */
    private final String backend;

    ReferenceAttentionOps(String backend) {
        this.backend = backend;
    }

    @Override
    public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                             TokenSelection out) {
        AttentionContracts.selectTokens(backend, scores, batch, pinMask, rule, out);
        CpuTokenSelection.select(scores, batch, pinMask, rule, out);
    }

    @Override
    public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
        AttentionContracts.gatherRows(backend, x, selection, out);
        RowCopies copies = RowCopies.gather(x, selection, out);
        copies.copy(0, copies.rows());
    }

    @Override
    public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
        AttentionContracts.scatterRows(backend, kept, selection, passThrough, out);
        RowCopies copies = RowCopies.scatter(kept, selection, passThrough, out);
        copies.copy(0, copies.rows());
    }

    @Override
    public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                          DeviceArray logSumExp) {
        AttentionContracts.attention(backend, inputs, batch, options, out, logSumExp);
        ReferenceAttention.attention(inputs, batch, options, out, logSumExp);
    }

    @Override
    public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        AttentionContracts.keyAttention(backend, inputs, batch, options, logSumExp, score, scores);
        ReferenceAttention.keyAttention(inputs, batch, options, logSumExp, score, scores);
    }
}
