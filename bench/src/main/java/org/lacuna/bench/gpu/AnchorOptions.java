package org.lacuna.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every anchor merge takes (a picocli mixin): the benchmark report, the anchor script's report, where
 * the merged report goes, the script's exit status and, when the script did not run, why.
 */
final class AnchorOptions {
    @Option(names = "--bench-json", required = true, description = "GpuBenchMain's report.")
    Path benchJson;

    @Option(names = "--anchors-json", required = true, description = "The anchor script's report (may be missing).")
    Path anchorsJson;

    @Option(names = "--out", required = true, description = "Where the merged report goes.")
    Path out;

    @Option(names = "--anchor-exit", defaultValue = "0", description = "The anchor script's exit status.")
    int anchorExit;

    @Option(names = "--anchor-note", description = "Why there are no anchors (PyTorch missing...), when there are none.")
    String anchorNote;

    /** One family's merge of the benchmark report with the anchors (null when there are none, and why). */
    @FunctionalInterface
    interface Merge {
        AnchorMerge.Result merge(BenchReport report, JsonNode anchors, int anchorExit, String whyMissing);
    }

    /**
     * Reads the anchors (none when a note says why the script did not run) and writes the merged report.
     *
     * @return 0 when the merged report was written, 2 when the benchmark report could not be read
     */
    int merge(String outcome, Merge merge) throws IOException {
        boolean noted = anchorNote != null && !anchorNote.isBlank();
        AnchorMerge.Anchors anchors = noted ? AnchorMerge.Anchors.NONE : AnchorMerge.readAnchors(anchorsJson);
        String missing = noted ? anchorNote
                : anchors.unreadable() != null ? anchors.unreadable()
                : AnchorMerge.noAnchors(anchorsJson, anchorExit);
        return AnchorMerge.run(outcome, benchJson, out, report -> merge.merge(report, anchors.json(), anchorExit,
                missing));
    }
}
