package org.lacuna.bench.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The accuracy cost of sparsity, measured: each {@link SparsityOption}'s embeddings of the same real sentences
 * against the dense encoder's (cosine per sentence: mean and minimum) beside its measured speed-up.
 *
 * @param sentences      sentences embedded for the cosines
 * @param tokens         their tokens after truncation, [CLS] and [SEP] included
 * @param timedSentences the first sentences that each timed pass embeds
 * @param passes         timed passes per option, round-robin over the options so load drifts hit all alike
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SparsityRecord(String model, String corpus, int sentences, long tokens, int timedSentences, int passes,
                             int batchSize, String backend, int threads, List<Row> rows, List<String> notes) {
    /**
     * One option.
     *
     * @param sparsity       {@link org.lacuna.api.models.EncoderSparsity#describe()}
     * @param meanCosine     mean over the sentences of the cosine to the dense embedding
     * @param minCosine      the worst sentence's
     * @param medianMs       median time of one pass over the timed sentences
     * @param speedup        the dense option's median ÷ this one's: above 1, faster than dense
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Row(String label, String sparsity, double meanCosine, double minCosine, double medianMs,
                      double minMs, double maxMs, double sentencesPerSecond, double speedup) {
    }
}
