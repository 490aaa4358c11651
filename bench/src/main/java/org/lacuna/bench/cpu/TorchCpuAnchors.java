package org.lacuna.bench.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.MeasurementPlan;

/**
 * The PyTorch side of the CPU benchmark, run as subprocesses in the same run: {@code bench/anchors/cpu_anchor.py} on
 * the linear, attention and tiny-op cases (from a spec file this class writes, so both sides time the same
 * problems; served a case at a time by {@link CpuAnchorServer}, taking turns with Lacuna), and
 * {@code sparse_conv_anchor.py --device cpu} on MinkUNet's exported maps and weights (one report at the end). Their
 * JSON results are read back as {@link Timing}s by case id and result name.
 */
final class TorchCpuAnchors {
    static final String SPEC_SCHEMA = "lacuna-cpu-cases/1";
    static final String SOURCE = "pytorch";

    private TorchCpuAnchors() {
    }

    /** The families the PyTorch script measures, with the kind it knows them by. */
    static String kind(CpuCase.Family family) {
        return switch (family) {
            case DENSE_LINEAR -> "linear";
            case ATTENTION -> "attention";
            case TINY_OP -> "tiny-linear";
            default -> null;
        };
    }

    /** Writes the spec {@code cpu_anchor.py --spec} reads: the cases of the families it measures. */
    static int writeSpec(Path file, List<CpuCase> cases, int threads) throws IOException {
        ObjectNode spec = Json.MAPPER.createObjectNode();
        spec.put("schema", SPEC_SCHEMA).put("threads", threads);
        ArrayNode list = spec.putArray("cases");
        int count = 0;
        for (CpuCase c : cases) {
            String kind = kind(c.family());
            if (kind != null) {
                ObjectNode entry = list.addObject();
                entry.put("case", c.id()).put("kind", kind).put("flops", c.flops());
                entry.set("params", Json.MAPPER.valueToTree(c.params()));
                count++;
            }
        }
        Json.MAPPER.writeValue(file.toFile(), spec);
        return count;
    }

    /** Why PyTorch cannot be used from {@code python}, or null when {@code import torch} works. */
    static String unavailable(String python) {
        return unavailable(python, 60);
    }

    /** As above, giving up after {@code timeoutSeconds}. */
    static String unavailable(String python, long timeoutSeconds) {
        Path log = null;
        try {
            // Output goes to a file, not a pipe read here: a read would block past the timeout if python hangs.
            log = Files.createTempFile("lacuna-torch-probe", ".log");
            Process p = new ProcessBuilder(python, "-c", "import torch; print(torch.__version__)")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return python + " -c 'import torch' did not finish in " + timeoutSeconds + " s";
            }
            if (p.exitValue() != 0) {
                String[] lines = Files.readString(log, StandardCharsets.UTF_8).strip().split("\n");
                return python + " cannot import torch (" + lines[lines.length - 1]
                        + "); install the anchors with bench/anchors/install-cpu-anchors.sh";
            }
            return null;
        } catch (IOException e) {
            return "cannot run " + python + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while probing " + python;
        } finally {
            if (log != null) {
                try {
                    Files.deleteIfExists(log);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    /** Runs a script, its output echoed to ours with a prefix; returns its exit status. */
    static int run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        System.out.println("   $ " + String.join(" ", command));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        Thread echo = Thread.ofPlatform().start(() -> {
            try (var reader = p.inputReader(StandardCharsets.UTF_8)) {
                reader.lines().forEach(line -> System.out.println("   | " + line));
            } catch (IOException e) {
                System.out.println("   | (output lost: " + e.getMessage() + ")");
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            echo.join(5_000);
            return 124;
        }
        echo.join(5_000);
        return p.exitValue();
    }

    /** A report read back, or why it could not be. */
    record Report(JsonNode json, String problem) {
        Map<String, Map<String, Timing>> timings() {
            return json == null ? Map.of() : parse(json);
        }

        JsonNode environment() {
            return json == null ? null : json.path("environment");
        }
    }

    static Report read(Path report, int exit) {
        if (!Files.isRegularFile(report)) {
            return new Report(null, "no report " + report.getFileName() + " (exit " + exit + ")");
        }
        try {
            JsonNode json = Json.MAPPER.readTree(report.toFile());
            String status = json.path("status").asText("unknown");
            return new Report(json, exit == 0 && !status.equals("failed") ? null
                    : "anchor script exit " + exit + ", status " + status + (json.hasNonNull("message")
                    ? ": " + json.path("message").asText() : ""));
        } catch (IOException e) {
            return new Report(null, "unreadable " + report.getFileName() + ": " + e.getMessage());
        }
    }

    /**
     * case id → result name → timing, from an anchor report ({@code cases[].results}, the harness's summary per
     * result, or {@code {"error": ...}}).
     */
    static Map<String, Map<String, Timing>> parse(JsonNode report) {
        Map<String, Map<String, Timing>> byCase = new LinkedHashMap<>();
        for (JsonNode c : report.path("cases")) {
            byCase.put(c.path("case").asText(), results(c.path("results")));
        }
        return byCase;
    }

    /** Result name → timing, from one case's {@code results} object. */
    static Map<String, Timing> results(JsonNode results) {
        Map<String, Timing> byName = new LinkedHashMap<>();
        results.properties().forEach(e -> byName.put(e.getKey(), timing(e.getKey(), e.getValue())));
        return byName;
    }

    static Timing timing(String name, JsonNode r) {
        String what = r.path("kernel").asText(name);
        if (r.has("error")) {
            return Timing.failed(name, SOURCE, what, r.path("error").asText());
        }
        if (!r.path("medianMs").isNumber()) {
            return Timing.failed(name, SOURCE, what, "no medianMs in the anchor's result");
        }
        return new Timing(name, SOURCE, what, r.path("medianMs").asDouble(), r.path("p10Ms").asDouble(),
                r.path("p90Ms").asDouble(), r.path("samples").asInt(), r.path("launchesPerSample").asInt(),
                r.path("warmupLaunches").asInt(), r.hasNonNull("relativeError")
                ? r.path("relativeError").asDouble() : null, null);
    }

    /** {@link #planArguments(int, int, double, double, int)} of {@code plan}. */
    static List<String> planArguments(int threads, MeasurementPlan plan) {
        return planArguments(threads, plan.samples(), plan.warmupMillis(), plan.maxMeasureMillis(), plan.minSamples());
    }

    /** The common options of both scripts: threads and the sampling plan. */
    static List<String> planArguments(int threads, int samples, double warmupMs, double maxMsPerCase,
                                      int minSamples) {
        List<String> args = new ArrayList<>();
        args.add("--threads");
        args.add(Integer.toString(threads));
        args.add("--samples");
        args.add(Integer.toString(samples));
        args.add("--min-samples");
        args.add(Integer.toString(minSamples));
        args.add("--warmup-ms");
        args.add(Double.toString(warmupMs));
        args.add("--max-ms-per-case");
        args.add(Double.toString(maxMsPerCase));
        return args;
    }
}
