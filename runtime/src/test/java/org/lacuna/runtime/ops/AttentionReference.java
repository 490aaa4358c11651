package org.lacuna.runtime.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.lacuna.runtime.attention.Granularity;
import org.lacuna.runtime.attention.SelectionRule;

/**
 * What the attention ops must compute, from the definitions, in double precision, independently of any backend:
 * the test side of {@link AttentionConformance}.
 */
final class AttentionReference {
    private AttentionReference() {
    }

    /** Softmax attention of one head over rows {@code members} of a sequence (kept tokens, or all of them). */
    record HeadResult(double[][] out, double[] logSumExp) {
    }

    /**
     * Attention for one head of one sequence whose tokens are {@code rows} (in order) of row-major q, k, v with
     * {@code stride} elements a row; the head's elements start at {@code column}.
     */
    static HeadResult head(float[] q, float[] k, float[] v, int stride, int qColumn, int kColumn, int vColumn,
                           int[] rows, int headDim, double scale, boolean causal) {
        int n = rows.length;
        double[][] out = new double[n][headDim];
        double[] lse = new double[n];
        for (int i = 0; i < n; i++) {
            double[] s = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                if (causal && j > i) {
                    s[j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int d = 0; d < headDim; d++) {
                    dot += (double) q[rows[i] * stride + qColumn + d] * k[rows[j] * stride + kColumn + d];
                }
                s[j] = scale * dot;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += Math.exp(s[j] - max);
            }
            for (int j = 0; j < n; j++) {
                double p = Math.exp(s[j] - max) / sum;
                for (int d = 0; d < headDim; d++) {
                    out[i][d] += p * v[rows[j] * stride + vColumn + d];
                }
            }
            lse[i] = max + Math.log(sum);
        }
        return new HeadResult(out, lse);
    }

    /** Order-preserving unsigned key of a score (NaN lowest): ranks like the kernels and the CPU backend. */
    static long key(float score) {
        if (Float.isNaN(score)) {
            return 0;
        }
        int bits = Float.floatToRawIntBits(score);
        return Integer.toUnsignedLong(bits < 0 ? ~bits : bits | 0x80000000);
    }

    /** The rows a sequence [start, start + length) keeps under {@code rule}, in order; written from the definition. */
    static List<Integer> keptRows(float[] scores, int[] pinMask, int start, int length, SelectionRule rule) {
        int prefix = Math.min(rule.pinnedPrefix(), length);
        // Items: each a list of positions, a score and a pinned flag.
        List<int[]> members = new ArrayList<>();
        List<Float> itemScores = new ArrayList<>();
        List<Boolean> pinned = new ArrayList<>();
        boolean[] keep = new boolean[length];
        if (rule.granularity() instanceof Granularity.Windows w) {
            Arrays.fill(keep, 0, prefix, true);
            int gridTokens = length - prefix;
            int gridRows = (gridTokens + w.gridWidth() - 1) / w.gridWidth();
            int windowCols = (w.gridWidth() + w.width() - 1) / w.width();
            int windowRows = (gridRows + w.height() - 1) / w.height();
            for (int wr = 0; wr < windowRows; wr++) {
                for (int wc = 0; wc < windowCols; wc++) {
                    List<Integer> positions = new ArrayList<>();
                    for (int r = wr * w.height(); r < Math.min(gridRows, (wr + 1) * w.height()); r++) {
                        for (int c = wc * w.width(); c < Math.min(w.gridWidth(), (wc + 1) * w.width()); c++) {
                            int gp = r * w.gridWidth() + c;
                            if (gp < gridTokens) {
                                positions.add(prefix + gp);
                            }
                        }
                    }
                    if (positions.isEmpty()) {
                        continue;
                    }
                    float sum = 0f;
                    boolean pin = false;
                    for (int p : positions) {
                        sum += scores[start + p];
                        pin |= pinMask != null && pinMask[start + p] != 0;
                    }
                    members.add(positions.stream().mapToInt(Integer::intValue).toArray());
                    itemScores.add(sum / positions.size());
                    pinned.add(pin);
                }
            }
        } else {
            for (int p = 0; p < length; p++) {
                members.add(new int[] {p});
                itemScores.add(scores[start + p]);
                pinned.add(p < prefix || (pinMask != null && pinMask[start + p] != 0));
            }
        }
        int items = members.size();
        boolean[] keepItem = new boolean[items];
        List<Integer> free = new ArrayList<>();
        int pinnedCount = 0;
        for (int i = 0; i < items; i++) {
            if (pinned.get(i)) {
                keepItem[i] = true;
                pinnedCount++;
            } else {
                free.add(i);
            }
        }
        if (rule.budget() instanceof SelectionRule.Threshold t) {
            for (int i : free) {
                keepItem[i] = itemScores.get(i) >= t.threshold();
            }
        } else {
            double ratio = ((SelectionRule.KeepRatio) rule.budget()).ratio();
            long wanted = items == 0 ? 0 : (long) Math.ceil(ratio * items * (1 - 1e-12));
            long take = Math.max(0, Math.min(free.size(), wanted - pinnedCount));
            free.sort(Comparator.comparingLong((Integer i) -> -key(itemScores.get(i))).thenComparingInt(i -> i));
            for (int i = 0; i < take; i++) {
                keepItem[free.get(i)] = true;
            }
        }
        for (int i = 0; i < items; i++) {
            if (keepItem[i]) {
                for (int p : members.get(i)) {
                    keep[p] = true;
                }
            }
        }
        List<Integer> rows = new ArrayList<>();
        for (int p = 0; p < length; p++) {
            if (keep[p]) {
                rows.add(start + p);
            }
        }
        return rows;
    }
}
