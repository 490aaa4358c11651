package org.lacuna.runtime.attention;

import java.util.Objects;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * A ragged batch of sequences packed row after row, as FlashAttention's varlen interface takes it: sequence
 * {@code b} owns rows {@code offsets[b] .. offsets[b+1]-1} of every per-token tensor, and rows from
 * {@code offsets[batch]} to {@code rows} belong to no sequence (a token selection's padding).
 *
 * <p>The offsets live on the device, so nothing here waits for them: {@code maxLength} is a host-side upper bound on
 * every sequence's length that kernels size their grids from (tighter is faster). The CPU backend checks the offsets
 * against it; GPU kernels clamp them to {@code [0, rows]} and would skip a sequence's rows past the bound.
 *
 * @param offsets   I32 [batch + 1], non-decreasing from {@code offsets[0] = 0} ("cu_seqlens")
 * @param rows      the first dimension of the batch's tensors, at least {@code offsets[batch]}
 * @param maxLength an upper bound on {@code offsets[b+1] - offsets[b]}
 */
public record SequenceBatch(DeviceArray offsets, long rows, int maxLength) {
    public SequenceBatch {
        Objects.requireNonNull(offsets, "offsets");
        String call = "SequenceBatch";
        if (offsets.dtype() != DType.I32 || offsets.shape().rank() != 1 || offsets.elementCount() < 1) {
            throw InvalidInputException.shape(call, "offsets must be I32 [batch + 1], got " + offsets.dtype()
                    + offsets.shape());
        }
        if (rows < 0 || rows > Integer.MAX_VALUE) {
            throw InvalidInputException.shape(call, "rows must be in [0, 2^31), got " + rows);
        }
        if (maxLength < 0 || maxLength > rows) {
            throw InvalidInputException.shape(call, "maxLength " + maxLength + " outside [0, rows = " + rows + "]");
        }
        if (offsets.elementCount() > Integer.MAX_VALUE) {
            throw InvalidInputException.shape(call, "too many sequences: " + (offsets.elementCount() - 1));
        }
    }

    /** The number of sequences. */
    public int batch() {
        return Math.toIntExact(offsets.elementCount() - 1);
    }
}
