package org.lacuna.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lacuna.bench.Json;

/**
 * Writes a {@link BenchRun} under a results folder: {@code <name>.json} (everything), {@code <name>.md} (the report)
 * and its PNG plots in {@code <name>/}.
 */
public final class BenchReportWriter {
    private BenchReportWriter() {
    }

    /** The files written. */
    public record Written(Path json, Path markdown, List<Path> plots) {
    }

    public static Written write(BenchRun run, Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        Path plotDir = dir.resolve(name);
        List<String> plots = BenchPlots.write(run, plotDir, name);
        BenchRun withPlots = run.withPlots(plots);
        Path json = dir.resolve(name + ".json");
        Json.MAPPER.writeValue(json.toFile(), withPlots);
        Path markdown = dir.resolve(name + ".md");
        Files.writeString(markdown, BenchMarkdown.render(withPlots, name + "/"), StandardCharsets.UTF_8);
        return new Written(json, markdown, plots.stream().map(plotDir::resolve).toList());
    }
}
