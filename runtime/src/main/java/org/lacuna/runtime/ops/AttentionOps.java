package org.lacuna.runtime.ops;

import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DeviceArray;

/**
 * Token-dropping attention. A layer that drops tokens runs, all on the device and without waiting for it: score
 * the tokens ({@link ElementwiseOps#rowReduce} L2 norms, the previous layer's
 * {@link #keyAttention}, or the caller's scores) → {@link #selectTokens} → {@link #gatherRows} of what it needs →
 * its work on the kept rows ({@link #attention} over {@link TokenSelection#keptBatch()}) → {@link #scatterRows} back,
 * dropped tokens passing through bit for bit. With every token kept it is plain (dense) attention.
 *
 * <p>Arguments are checked by {@link AttentionContracts} before any work is issued. Calls are asynchronous on GPU
 * backends. Per-token tensors have the tokens as dimension 0 ("rows").
 */
public interface AttentionOps {
    /**
     * Selects per sequence the tokens {@code rule} keeps, by {@code scores}, into {@code out}.
     *
     * @param scores     F32 [rows]
     * @param pinMask    I32 [rows], non-zero marks a token that is always kept; or null
     * @param out        allocated for this batch with a capacity of at least {@code rule.capacity(..)}
     * @throws org.lacuna.runtime.error.InvalidInputException for a NaN score on synchronous backends; asynchronous ones
     *         record it for {@link TokenSelection#verify}
     */
    void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule, TokenSelection out);

    /**
     * {@code out[j] = x[keptIndex[j]]}, row by row as raw bits; the selection's padding rows become zeros.
     *
     * @param x   [selection.rows(), ...]
     * @param out [selection.capacity(), ...] of x's dtype and row length
     */
    void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out);

    /**
     * {@code out[r] = kept[slotOf[r]]} for kept tokens and {@code passThrough[r]} (bit for bit) for dropped ones, or
     * zeros when {@code passThrough} is null. {@code out} may be {@code passThrough} itself: then only kept rows are
     * written.
     *
     * @param kept [selection.capacity(), ...]
     * @param out  [selection.rows(), ...] of kept's dtype and row length
     */
    void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out);

    /**
     * Multi-head attention over each sequence of {@code batch}: {@code out = softmax(scale · Q Kᵀ) V} per head, fp32
     * softmax and accumulation, flash style (the scores never reach memory). Rows outside every sequence are zeroed.
     *
     * @param inputs    F16 or BF16, [batch.rows(), ...] per {@link AttentionInputs}
     * @param out       [batch.rows(), heads·headDim] (or [rows, heads, headDim]) of the inputs' dtype
     * @param logSumExp F32 [heads, batch.rows()] receiving each row's {@code log Σ_j exp(scale · q·k_j)} (-inf outside
     *                  every sequence), which {@link #keyAttention} needs; or null
     */
    void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                   DeviceArray logSumExp);

    /**
     * The attention each token received in the pass that produced {@code logSumExp} from the same inputs, averaged
     * over heads ({@link KeyScore}): the next layer's token scores. Zero outside every sequence.
     *
     * @param scores F32 [batch.rows()]
     */
    void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray logSumExp,
                      KeyScore score, DeviceArray scores);
}
