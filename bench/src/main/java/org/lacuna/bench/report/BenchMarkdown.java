package org.lacuna.bench.report;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The markdown report of a {@link BenchRun}: what ran where, the sparsity table, every case, the plots. */
final class BenchMarkdown {
    private BenchMarkdown() {
    }

    /** @param plotDir the plots' folder relative to the markdown file ("" for beside it) */
    static String render(BenchRun run, String plotDir) {
        StringBuilder md = new StringBuilder();
        md.append("# Lacuna benchmark report ").append(run.recordedAt()).append(" (").append(run.mode())
                .append(")\n\n");
        run.machine().forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
        md.append("\n## Suites\n\n");
        run.suites().forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
        if (run.notes() != null && !run.notes().isEmpty()) {
            md.append("\n## Notes\n\n");
            run.notes().forEach(n -> md.append("- ").append(n).append('\n'));
        }
        if (run.sparsity() != null) {
            sparsity(md, run.sparsity());
        }
        Map<String, List<ReportRow>> bySuite = new LinkedHashMap<>();
        run.rows().forEach(r -> bySuite.computeIfAbsent(r.suite(), s -> new java.util.ArrayList<>()).add(r));
        for (Map.Entry<String, List<ReportRow>> suite : bySuite.entrySet()) {
            cases(md, suite.getKey(), suite.getValue());
        }
        if (run.plots() != null && !run.plots().isEmpty()) {
            md.append("\n## Plots\n\n");
            for (String plot : run.plots()) {
                md.append("![").append(plot).append("](").append(plotDir).append(plot).append(")\n\n");
            }
        }
        return md.toString();
    }

    private static void sparsity(StringBuilder md, SparsityRecord s) {
        md.append("\n## Accuracy cost of sparsity\n\n");
        md.append(String.format(Locale.ROOT, "%s on %d sentences (%d tokens) of %s; %s backend, %d thread(s), batches"
                        + " of %d; speed-up: median of %d passes over the first %d sentences.%n%n", s.model(),
                s.sentences(), s.tokens(), s.corpus(), s.backend(), s.threads(), s.batchSize(), s.passes(),
                s.timedSentences()));
        md.append("| option | encoder | mean cosine to dense | min cosine | median ms | sentences/s | speed-up |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (SparsityRecord.Row r : s.rows()) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %.4f | %.4f | %.1f | %.1f | %.2fx |%n", r.label(),
                    r.sparsity(), r.meanCosine(), r.minCosine(), r.medianMs(), r.sentencesPerSecond(), r.speedup()));
        }
        if (s.notes() != null) {
            md.append('\n');
            s.notes().forEach(n -> md.append("- ").append(n).append('\n'));
        }
    }

    private static void cases(StringBuilder md, String suite, List<ReportRow> rows) {
        md.append("\n## Cases: ").append(suite).append("\n\n");
        md.append("Speed-up is the anchor's median time ÷ Lacuna's (above 1: Lacuna is faster); the fraction is of ")
                .append(rows.get(0).peakKind()).append(".\n\n");
        md.append("| case | family | Lacuna ms | anchor | anchor ms | speed-up | % of peak |\n");
        md.append("|---|---|---:|---|---:|---:|---:|\n");
        for (ReportRow r : rows) {
            md.append("| ").append(r.id()).append(" | ").append(r.family()).append(" | ").append(number(r.lacunaMs(), "%.3f"))
                    .append(" | ").append(r.anchor() == null ? "-" : r.anchor()).append(" | ")
                    .append(number(r.anchorMs(), "%.3f")).append(" | ")
                    .append(r.speedup() == null ? "-" : String.format(Locale.ROOT, "%.3fx", r.speedup())).append(" | ")
                    .append(r.fractionOfPeak() == null ? "-" : String.format(Locale.ROOT, "%.1f", 100 * r.fractionOfPeak()))
                    .append(" |\n");
        }
    }

    private static String number(Double v, String format) {
        return v == null ? "-" : String.format(Locale.ROOT, format, v);
    }
}
