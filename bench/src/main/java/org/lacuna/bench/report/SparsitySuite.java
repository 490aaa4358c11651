package org.lacuna.bench.report;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.lacuna.api.Session;
import org.lacuna.api.text.EmbeddingAgreement;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.api.text.SentenceModel;

/**
 * Measures {@link SparsityRecord}: every option embeds all the sentences once (the cosines; also each encoder's
 * warm-up), then the options take turns embedding the timed sentences, {@code passes} rounds, and each option's
 * median pass time gives its speed-up over dense. The first option must be dense.
 */
public final class SparsitySuite {
    /** How much to measure. */
    public record Plan(int sentences, int timedSentences, int passes, int batchSize) {
        public static Plan quick() {
            return new Plan(300, 32, 3, 32);
        }

        public static Plan full() {
            return new Plan(Integer.MAX_VALUE, 256, 5, 32);
        }
    }

    private SparsitySuite() {
    }

    public static SparsityRecord run(Session session, SentenceModel model, List<SparsityOption> options,
                                     List<String> sentences, String corpus, Plan plan, int threads, PrintStream log) {
        if (options.isEmpty() || !options.get(0).sparsity().isDense()) {
            throw new IllegalArgumentException("the first option must be the dense reference");
        }
        if (sentences.isEmpty()) {
            throw new IllegalArgumentException("no sentences to embed");
        }
        List<String> timed = sentences.subList(0, Math.min(plan.timedSentences(), sentences.size()));
        long tokens = model.tokenizer().encode(sentences).tokens();
        List<SentenceEmbedder> embedders = new ArrayList<>();
        try {
            for (SparsityOption option : options) {
                embedders.add(model.embedder(session, option.sparsity()));
            }
            float[][][] embeddings = new float[options.size()][][];
            for (int i = 0; i < options.size(); i++) {
                long start = System.nanoTime();
                embeddings[i] = embedders.get(i).embed(sentences, plan.batchSize());
                log.printf(Locale.ROOT, "   %-26s embedded %d sentences in %.1f s%n", options.get(i).label(),
                        sentences.size(), (System.nanoTime() - start) / 1e9);
            }
            double[][] ms = new double[options.size()][plan.passes()];
            for (int pass = 0; pass < plan.passes(); pass++) {
                for (int i = 0; i < options.size(); i++) {
                    long start = System.nanoTime();
                    embedders.get(i).embed(timed, plan.batchSize());
                    ms[i][pass] = (System.nanoTime() - start) / 1e6;
                }
                log.printf(Locale.ROOT, "   timed pass %d/%d done%n", pass + 1, plan.passes());
            }
            double denseMs = median(ms[0]);
            List<SparsityRecord.Row> rows = new ArrayList<>();
            for (int i = 0; i < options.size(); i++) {
                EmbeddingAgreement agreement = EmbeddingAgreement.of(embeddings[0], embeddings[i]);
                double median = median(ms[i]);
                rows.add(new SparsityRecord.Row(options.get(i).label(), options.get(i).sparsity().describe(),
                        agreement.mean(), agreement.min(), median, Arrays.stream(ms[i]).min().orElseThrow(),
                        Arrays.stream(ms[i]).max().orElseThrow(), timed.size() / (median / 1e3), denseMs / median));
            }
            List<String> notes = List.of(
                    "Cosines are per sentence against the dense encoder's embedding of the same sentence.",
                    "Times are medians of " + plan.passes() + " passes over the first " + timed.size()
                            + " sentences, options taking turns, on a shared machine (other jobs ran at the same "
                            + "time): read the speed-ups as rough ratios, not as the kernels' best.");
            return new SparsityRecord(model.name(), corpus, sentences.size(), tokens, timed.size(), plan.passes(),
                    plan.batchSize(), session.backendName() + " (" + session.device().name() + ")", threads, rows,
                    notes);
        } finally {
            embedders.forEach(SentenceEmbedder::close);
        }
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
