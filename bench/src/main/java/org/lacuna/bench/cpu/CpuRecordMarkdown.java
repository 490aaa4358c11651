package org.lacuna.bench.cpu;

import java.util.Locale;
import java.util.Map;

/** A {@link CpuRecord} as Markdown: the machine, the cases with their FLOPs, times and ratios, then the targets. */
public final class CpuRecordMarkdown {
    private CpuRecordMarkdown() {
    }

    public static String render(CpuRecord r) {
        StringBuilder md = new StringBuilder();
        md.append("# CPU benchmark run ").append(r.recordedAt()).append(" (").append(r.suite()).append(")\n\n");
        CpuRecord.Machine m = r.machine();
        md.append("- CPU: ").append(m.cpuModel()).append(", ").append(m.logicalCores()).append(" logical cores; ")
                .append(m.threads()).append(" thread(s) on every side\n");
        md.append("- measured fp32 FMA peak: ").append(m.fmaPeakGflops() == null ? "not measured"
                : String.format(Locale.ROOT, "%.1f GFLOP/s on %d thread(s), %.1f on one", m.fmaPeakGflops(),
                        m.threads(), m.fmaPeakOneThreadGflops())).append(" (").append(m.fmaPeakMethod()).append(")\n");
        md.append("- JVM: ").append(m.jvm()).append('\n');
        r.build().forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
        r.backend().forEach((k, v) -> md.append("- backend ").append(k).append(": ").append(v).append('\n'));
        r.anchors().forEach((k, v) -> md.append("- anchor ").append(k).append(": ").append(v).append('\n'));
        md.append('\n');
        if (!r.notes().isEmpty()) {
            md.append("## Notes\n\n");
            r.notes().forEach(n -> md.append("- ").append(n).append('\n'));
            md.append('\n');
        }

        md.append("## Cases\n\nTimes are medians per run; the speed-up is peer time ÷ Lacuna time (above 1: Lacuna is"
                + " faster); the fraction is of the measured FMA peak. Where the speed-up gives rounds, the two sides"
                + " took turns in that many rounds: the times are the medians of the rounds' medians, the speed-up the"
                + " median of the rounds' ratios with their lowest and highest in brackets.\n\n");
        md.append("| case | GFLOP | Lacuna ms | Lacuna GFLOP/s | % of peak | peer | peer ms | peer GFLOP/s | speed-up |"
                + " note |\n");
        md.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---|\n");
        for (CpuRecord.CaseRow c : r.cases()) {
            md.append("| ").append(c.id()).append(" | ").append(fixed(c.flops() / 1e9, 3)).append(" | ")
                    .append(time(c.lacuna())).append(" | ").append(fixed(c.lacunaGflops(), 1)).append(" | ")
                    .append(c.fractionOfPeak() == null ? "-" : fixed(100 * c.fractionOfPeak(), 1)).append(" | ")
                    .append(c.peer() == null ? "-" : c.peer().name()).append(" | ").append(time(c.peer()))
                    .append(" | ").append(fixed(c.peerGflops(), 1)).append(" | ")
                    .append(speedup(c)).append(" | ")
                    .append(note(c)).append(" |\n");
        }
        md.append("\n## Targets\n\n| target | case | status | where it stands |\n|---|---|---|---|\n");
        for (CpuTargets.Result t : r.targets()) {
            md.append("| ").append(t.target()).append(" | ").append(t.caseId()).append(" | ")
                    .append(t.status().name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" | ")
                    .append(t.summary().replace("|", "/")).append(" |\n");
        }
        return md.toString();
    }

    /** "0.981x", or "0.981x (0.952-1.040, 5 rounds)" where the sides took turns in rounds. */
    static String speedup(CpuRecord.CaseRow c) {
        if (c.speedup() == null) {
            return "-";
        }
        CpuRecord.Rounds r = c.rounds();
        return fixed(c.speedup(), 3) + "x" + (r == null || r.ratios().size() < 2 ? ""
                : " (" + fixed(r.minRatio(), 3) + "-" + fixed(r.maxRatio(), 3) + ", " + r.ratios().size() + " rounds)");
    }

    private static String note(CpuRecord.CaseRow c) {
        StringBuilder note = new StringBuilder(c.note() == null ? "" : c.note());
        if (c.others() != null) {
            for (Timing t : c.others()) {
                append(note, t.name() + " " + time(t) + " ms");
            }
        }
        for (Timing t : new Timing[] {c.lacuna(), c.peer()}) {
            if (t != null && t.error() != null) {
                append(note, t.name() + ": " + t.error());
            }
        }
        Object extra = c.params().get("sentencesPerSecond");
        if (extra instanceof Map<?, ?> rates) {
            append(note, "sentences/s " + rates);
        }
        return note.toString().replace("|", "/").replace("\n", " ");
    }

    private static void append(StringBuilder note, String part) {
        if (!note.isEmpty()) {
            note.append("; ");
        }
        note.append(part);
    }

    private static String time(Timing t) {
        return t == null || !t.measured() ? "-" : fixed(t.medianMs(), t.medianMs() < 0.1 ? 5 : 3);
    }

    private static String fixed(Double v, int digits) {
        return v == null ? "-" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }
}
