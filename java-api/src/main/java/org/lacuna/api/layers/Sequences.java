package org.lacuna.api.layers;

import java.util.Arrays;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * A ragged batch of token sequences packed row after row in one [tokens, hidden] tensor: the lengths on the host,
 * their offsets (cu_seqlens) on the session's device. Close it (or its session) to free the offsets.
 */
public final class Sequences implements AutoCloseable {
    private final int[] lengths;
    private final Tensor offsets;
    private final SequenceBatch batch;

    private Sequences(int[] lengths, Tensor offsets, SequenceBatch batch) {
        this.lengths = lengths;
        this.offsets = offsets;
        this.batch = batch;
    }

    /** Sequences of the given lengths (zero allowed), in order. */
    public static Sequences of(Session session, int... lengths) {
        long total = 0;
        int max = 0;
        int[] cumulative = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) {
            if (lengths[b] < 0) {
                throw InvalidInputException.argument("Sequences.of", "sequence " + b + " has negative length " + lengths[b]);
            }
            total += lengths[b];
            if (total > Integer.MAX_VALUE) {
                throw InvalidInputException.argument("Sequences.of", "more than 2^31-1 tokens");
            }
            cumulative[b + 1] = (int) total;
            max = Math.max(max, lengths[b]);
        }
        Tensor offsets = session.fromInts(cumulative, cumulative.length);
        return new Sequences(lengths.clone(), offsets, new SequenceBatch(offsets.array("Sequences.of"), total, max));
    }

    /** The runtime's view: device offsets, token count, longest length. */
    public SequenceBatch batch() {
        offsets.array("Sequences.batch");
        return batch;
    }

    public int count() {
        return lengths.length;
    }

    public long tokens() {
        return batch.rows();
    }

    public int maxLength() {
        return batch.maxLength();
    }

    public int[] lengths() {
        return lengths.clone();
    }

    /** The first row of sequence {@code b}. */
    public int start(int b) {
        int start = 0;
        for (int i = 0; i < b; i++) {
            start += lengths[i];
        }
        return start;
    }

    @Override
    public void close() {
        offsets.close();
    }

    @Override
    public String toString() {
        return "Sequences" + Arrays.toString(lengths);
    }
}
