package org.lacuna.api.text;

import java.util.Arrays;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * Tokenised sentences as a ragged batch: the ids of every sequence one after another (no padding: Lacuna's attention
 * runs within each sequence, which is what padding plus an attention mask achieve in a padded batch), their token
 * types, and the length of each sequence.
 */
public record TokenBatch(int[] ids, int[] typeIds, int[] lengths) {
    public TokenBatch {
        long total = 0;
        for (int length : lengths) {
            if (length <= 0) {
                throw InvalidInputException.argument("TokenBatch", "every sequence needs at least one token");
            }
            total += length;
        }
        if (total != ids.length || (typeIds != null && typeIds.length != ids.length)) {
            throw InvalidInputException.shape("TokenBatch", ids.length + " ids for sequences of "
                    + Arrays.toString(lengths));
        }
    }

    public int count() {
        return lengths.length;
    }

    public int tokens() {
        return ids.length;
    }

    /** The ids of sequence {@code b}. */
    public int[] ids(int b) {
        int start = start(b);
        return Arrays.copyOfRange(ids, start, start + lengths[b]);
    }

    /** The token types of sequence {@code b} (zeros when there are none). */
    public int[] typeIds(int b) {
        int start = start(b);
        return typeIds == null ? new int[lengths[b]] : Arrays.copyOfRange(typeIds, start, start + lengths[b]);
    }

    private int start(int b) {
        int start = 0;
        for (int i = 0; i < b; i++) {
            start += lengths[i];
        }
        return start;
    }

    /** Sequences {@code from} (inclusive) to {@code to} (exclusive) as a batch of their own. */
    public TokenBatch slice(int from, int to) {
        int start = start(from);
        int end = start;
        for (int i = from; i < to; i++) {
            end += lengths[i];
        }
        return new TokenBatch(Arrays.copyOfRange(ids, start, end),
                typeIds == null ? null : Arrays.copyOfRange(typeIds, start, end), Arrays.copyOfRange(lengths, from, to));
    }
}
