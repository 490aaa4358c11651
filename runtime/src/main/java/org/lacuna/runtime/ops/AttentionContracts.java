package org.lacuna.runtime.ops;

import java.util.List;
import java.util.Set;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;

/** The argument checks of {@link AttentionOps}, shared by every backend so that all fail alike. */
public final class AttentionContracts {
    private static final Set<DType> HALVES = Set.of(DType.F16, DType.BF16);

    private AttentionContracts() {
    }

    public static void selectTokens(String backend, DeviceArray scores, SequenceBatch batch, DeviceArray pinMask,
                                    SelectionRule rule, TokenSelection out) {
        String call = "selectTokens";
        if (batch == null || rule == null || out == null) {
            throw InvalidInputException.argument(call, "batch, rule and selection are required");
        }
        OpContracts.requireOpen(call, backend, scores, batch.offsets());
        requireSelection(call, backend, out);
        if (scores.dtype() != DType.F32 || !scores.shape().equals(Shape.of(batch.rows()))) {
            throw InvalidInputException.shape(call, "scores must be F32 [" + batch.rows() + "], got " + scores.dtype()
                    + scores.shape());
        }
        if (pinMask != null) {
            OpContracts.requireOpen(call, backend, pinMask);
            if (pinMask.dtype() != DType.I32 || !pinMask.shape().equals(Shape.of(batch.rows()))) {
                throw InvalidInputException.shape(call, "the pin mask must be I32 [" + batch.rows() + "], got "
                        + pinMask.dtype() + pinMask.shape());
            }
        }
        if (out.rows() != batch.rows() || out.batch() != batch.batch()) {
            throw InvalidInputException.shape(call, "the selection was made for " + out.rows() + " rows in "
                    + out.batch() + " sequences, the batch has " + batch.rows() + " in " + batch.batch());
        }
        long needed = rule.capacity(batch.rows(), batch.batch(), batch.maxLength(), pinMask != null);
        if (needed > out.capacity()) {
            throw InvalidInputException.shape(call, "the rule may keep " + needed + " tokens but the selection holds "
                    + out.capacity() + ": allocate it for this rule" + (pinMask != null ? " with a pin mask" : ""));
        }
    }

    public static void gatherRows(String backend, DeviceArray x, TokenSelection selection, DeviceArray out) {
        String call = "gatherRows";
        requireSelection(call, backend, selection);
        requireRowMove(call, backend, "x", x, selection.rows(), out, selection.capacity());
    }

    public static void scatterRows(String backend, DeviceArray kept, TokenSelection selection, DeviceArray passThrough,
                                   DeviceArray out) {
        String call = "scatterRows";
        requireSelection(call, backend, selection);
        requireRowMove(call, backend, "kept", kept, selection.capacity(), out, selection.rows());
        if (passThrough != null) {
            OpContracts.requireOpen(call, backend, passThrough);
            boolean same = passThrough.buffer() == out.buffer() && passThrough.byteOffset() == out.byteOffset();
            if (passThrough.dtype() != out.dtype() || !passThrough.shape().equals(out.shape())) {
                throw InvalidInputException.shape(call, "passThrough " + passThrough.dtype() + passThrough.shape()
                        + " must match out " + out.dtype() + out.shape());
            }
            if (!same && OpContracts.overlaps(passThrough, out)) {
                throw InvalidInputException.argument(call, "passThrough and out overlap without being the same tensor");
            }
            if (OpContracts.overlaps(passThrough, kept)) {
                throw InvalidInputException.argument(call, "passThrough and kept overlap");
            }
        }
    }

    /** Checks an attention's operands; returns the token count. */
    public static long attention(String backend, AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                                 DeviceArray out, DeviceArray logSumExp) {
        String call = "attention";
        requireInputs(call, backend, inputs, batch, options);
        OpContracts.requireOpen(call, backend, out);
        if (out.dtype() != inputs.dtype()) {
            throw InvalidInputException.dtype(call, "out is " + out.dtype() + " but the inputs are " + inputs.dtype());
        }
        requireTokens(call, "out", out, batch.rows(), options.width());
        for (DeviceArray input : inputs.arrays()) {
            if (OpContracts.overlaps(input, out)) {
                throw InvalidInputException.argument(call, "out overlaps an input");
            }
        }
        if (logSumExp != null) {
            OpContracts.requireOpen(call, backend, logSumExp);
            requireLogSumExp(call, logSumExp, options, batch);
            if (OpContracts.overlaps(logSumExp, out)) {
                throw InvalidInputException.argument(call, "logSumExp overlaps out");
            }
            for (DeviceArray input : inputs.arrays()) {
                if (OpContracts.overlaps(input, logSumExp)) {
                    throw InvalidInputException.argument(call, "logSumExp overlaps an input");
                }
            }
        }
        return batch.rows();
    }

    public static void keyAttention(String backend, AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                                    DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        String call = "keyAttention";
        requireInputs(call, backend, inputs, batch, options);
        if (score == null) {
            throw InvalidInputException.argument(call, "score is null");
        }
        OpContracts.requireOpen(call, backend, logSumExp, scores);
        requireLogSumExp(call, logSumExp, options, batch);
        if (scores.dtype() != DType.F32 || !scores.shape().equals(Shape.of(batch.rows()))) {
            throw InvalidInputException.shape(call, "scores must be F32 [" + batch.rows() + "], got " + scores.dtype()
                    + scores.shape());
        }
        if (OpContracts.overlaps(scores, logSumExp)) {
            throw InvalidInputException.argument(call, "scores overlap logSumExp");
        }
        for (DeviceArray input : inputs.arrays()) {
            if (OpContracts.overlaps(input, scores)) {
                throw InvalidInputException.argument(call, "scores overlap an input");
            }
        }
    }

    private static void requireInputs(String call, String backend, AttentionInputs inputs, SequenceBatch batch,
                                      AttentionOptions options) {
        if (inputs == null || batch == null || options == null) {
            throw InvalidInputException.argument(call, "inputs, batch and options are required");
        }
        OpContracts.requireOpen(call, backend, batch.offsets());
        for (DeviceArray a : inputs.arrays()) {
            OpContracts.requireOpen(call, backend, a);
            if (!HALVES.contains(a.dtype()) || a.dtype() != inputs.dtype()) {
                throw InvalidInputException.dtype(call, "Q, K and V must all be F16 or all BF16, got " + a.dtype()
                        + " beside " + inputs.dtype());
            }
        }
        int width = options.width();
        switch (inputs) {
            case AttentionInputs.Packed p -> requireTokens(call, "qkv", p.qkv(), batch.rows(), 3L * width);
            case AttentionInputs.Separate s -> {
                requireTokens(call, "q", s.q(), batch.rows(), width);
                requireTokens(call, "k", s.k(), batch.rows(), width);
                requireTokens(call, "v", s.v(), batch.rows(), width);
            }
        }
    }

    /** [rows, ...] holding {@code width} elements a row: the way mismatched head counts or head dims show. */
    private static void requireTokens(String call, String name, DeviceArray a, long rows, long width) {
        if (a.shape().rank() < 1 || a.shape().dim(0) != rows || a.elementCount() != rows * width) {
            throw InvalidInputException.shape(call, name + " has shape " + a.shape() + " but the attention needs "
                    + rows + " rows of " + width + " elements (heads x head dim" + (name.equals("qkv") ? " x 3" : "")
                    + ")");
        }
    }

    private static void requireLogSumExp(String call, DeviceArray lse, AttentionOptions options, SequenceBatch batch) {
        Shape want = Shape.of(options.heads(), batch.rows());
        if (lse.dtype() != DType.F32 || !lse.shape().equals(want)) {
            throw InvalidInputException.shape(call, "logSumExp must be F32 " + want + ", got " + lse.dtype() + lse.shape());
        }
    }

    /**
     * A gather (all of a selection's rows to its kept ones) or scatter (kept rows back to all): both arrays open and
     * of this backend, each with the rows its side of the selection has, of one row width and dtype, and not
     * overlapping.
     */
    private static void requireRowMove(String call, String backend, String fromName, DeviceArray from, long fromRows,
                                       DeviceArray out, long outRows) {
        OpContracts.requireOpen(call, backend, from, out);
        requireRows(call, fromName, from, fromRows);
        requireRows(call, "out", out, outRows);
        requireSameRows(call, from, out);
        if (OpContracts.overlaps(from, out)) {
            throw InvalidInputException.argument(call, fromName + " and out overlap");
        }
    }

    private static void requireRows(String call, String name, DeviceArray a, long rows) {
        if (a.shape().rank() < 1 || a.shape().dim(0) != rows) {
            throw InvalidInputException.shape(call, name + " has shape " + a.shape() + ", expected " + rows + " rows");
        }
    }

    private static void requireSameRows(String call, DeviceArray from, DeviceArray to) {
        long fromRow = from.shape().dim(0) == 0 ? -1 : from.elementCount() / from.shape().dim(0);
        long toRow = to.shape().dim(0) == 0 ? -1 : to.elementCount() / to.shape().dim(0);
        if (from.dtype() != to.dtype() || (fromRow >= 0 && toRow >= 0 && fromRow != toRow)) {
            throw InvalidInputException.shape(call, "rows of " + from.dtype() + from.shape() + " and " + to.dtype()
                    + to.shape() + " differ in dtype or length");
        }
    }

    private static void requireSelection(String call, String backend, TokenSelection selection) {
        if (selection == null) {
            throw InvalidInputException.argument(call, "selection is null");
        }
        OpContracts.requireOpen(call, backend, selection.keptIndex(), selection.slotOf());
    }

}
