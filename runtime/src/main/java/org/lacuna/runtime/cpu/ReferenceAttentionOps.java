package org.lacuna.runtime.cpu;

import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.ops.AttentionContracts;

/**
 * The reference of every attention op, checks nothing skips: selection and row movement (exact) as the serving
 * backend runs them, on the calling thread; attention in double precision with one rounding to the output type.
 */
final class ReferenceAttentionOps extends HostAttentionOps {
    /** @param backend the backend whose tensors this serves: the reference's own, or the one it stands in for */
    ReferenceAttentionOps(String backend) {
        super(backend, CpuThreads.CALLER);
    }

    @Override
    public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                          DeviceArray logSumExp) {
        AttentionContracts.attention(backendName, inputs, batch, options, out, logSumExp);
        ReferenceAttention.attention(inputs, batch, options, out, logSumExp);
    }

    @Override
    public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        AttentionContracts.keyAttention(backendName, inputs, batch, options, logSumExp, score, scores);
        ReferenceAttention.keyAttention(inputs, batch, options, logSumExp, score, scores);
    }
}
