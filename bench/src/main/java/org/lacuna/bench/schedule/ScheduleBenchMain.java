package org.lacuna.bench.schedule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.layers.Linear;
import org.lacuna.api.layers.Sequences;
import org.lacuna.api.layers.TokenDropping;
import org.lacuna.api.layers.TransformerEncoder;
import org.lacuna.api.layers.TransformerEncoderLayer;
import org.lacuna.api.models.MinkUNet;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.SampleStatistics;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.schedule.Calibration;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.EfficiencyTable;
import org.lacuna.runtime.schedule.JitWatch;
import org.lacuna.runtime.schedule.Plan;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.schedule.TuningStore;

/**
 * The scheduler end to end on the serving backend: a MiniLM-shaped encoder with 2:4 FFN weights and token dropping,
 * and MinkUNet on the KITTI sweep, each run under {@code auto}, {@code fastest-measured} and every fixed single
 * choice, in interleaved rounds (so drift hits every policy alike; the order rotating from round to round), median per
 * policy; each round's timed run per policy is N forwards back to back after an untimed one ({@link #TIMED_RUN_MILLIS}),
 * N the same for every policy. Choosing's host time is reported on the wall clock and, for the sections that decide,
 * as the choosing thread's CPU time; each cold phase starts once the JIT's queue is quiet ({@link #awaitJitQuiet}). Also the host time spent
 * choosing per forward: the device calibration (once per device), the first forward on a cold store, the first on a
 * warm one (the next process, a JVM of its own on the file the cold run wrote: {@link NextProcessMain}), and a
 * planned forward. The run keeps to a time budget
 * ({@code --budget-minutes}, default 8): each workload gets its share, and its timed rounds stop early (never below
 * 3) when the share is spent. Writes {@code bench/results/schedule-<backend>-<date>.{json,md}}.
 *
 * <pre>bench/run-schedule.sh [--quick] [--rounds N] [--budget-minutes M] [--scan PATH|none]
 *     [--shapes 1x32,4x128,16x128|none] [--out DIR]</pre>
 */
public final class ScheduleBenchMain {
    private ScheduleBenchMain() {
    }

    /** One policy's result on one workload. */
    record PolicyRun(String policy, double medianMillis, double[] samplesMillis, double firstRunMillis,
                     int forwardsToDecide, double coldHostChoosingMillis, double coldHostCpuMillis,
                     double coldTrialExtraMillis, double coldChoosingMillis,
                     Map<String, Map<String, Integer>> choices) {
    }

    /**
     * One workload's results. Choosing times are auto's host time choosing in one forward: the first on a cold
     * store, the first on a warm store, and the median of {@link #PLANNED_FORWARDS} planned ones.
     */
    record Workload(String name, String input, List<PolicyRun> policies, int rounds, double warmStoreChoosingMillis,
                    int warmStoreStoredDecisions, int warmStoreChoosingDecisions, int decisions,
                    long coldDecisionsMade, double coldChoosingMillis, int coldForwardsToDecide,
                    double coldHostChoosingMillis, double coldTrialExtraMillis, double plannedChoosingMicros,
                    double autoMedianMillis, String autoPlan, double jitWarmUpMillis, TrialBudget coldBudget,
                    int coldProvisionalChoices, Recheck recheck, double coldHostCpuMillis, int forwardsPerTimedRun,
                    double jitQuietWaitMillis, String fastestMeasuredPlan, List<ColdPhase> coldRepeats,
                    Double coldStartsMedianMillis, PolicyComparison.Headroom headroom,
                    List<PolicyComparison.PairedRatio> autoPaired) {
    }

    /**
     * A policy's cold-store phase: its first forward's time, the forwards until its live trials decided, and what
     * choosing cost over them (host time on the wall clock and the choosing thread's CPU time in the sections that
     * decide, and the live calls' time beyond the chosen candidates').
     */
    record ColdPhase(double firstMillis, int forwards, double hostMillis, double hostCpuMillis,
                     double trialExtraMillis, TrialBudget budget) {
        double choosingMillis() {
            return hostMillis + trialExtraMillis;
        }
    }

    /**
     * auto's trial budget on the cold store: the predicted forward, as the trials' measurements corrected it, the
     * budget (a share of that) and what was spent.
     */
    record TrialBudget(double predictedForwardMillis, double estimatedForwardMillis, double budgetMillis,
                       double spentMillis) {
    }

    /**
     * The next process on auto's store (the "warm store", a JVM of its own): the provisional choices it re-checked on
     * short trials, over how many forwards, at what cost; then the process after it, every choice confirmed: its host
     * time choosing.
     */
    record Recheck(int rechecked, int confirmedByPrediction, int forwards, double hostMillis, double hostCpuMillis, double trialExtraMillis,
                   double confirmedStoreChoosingMillis, double confirmedStoreCpuMillis,
                   int confirmedStoreStoredDecisions, int confirmedStoreForwards,
                   double confirmedStoreTrialExtraMillis, double confirmedStoreFirstForwardMillis,
                   double sameJvmConfirmedStoreMillis, double sameJvmConfirmedStoreCpuMillis,
                   int sameJvmConfirmedStoreDeciding) {
    }

    /** Planned forwards whose choosing time is measured (the median is reported). */
    static final int PLANNED_FORWARDS = 7;
    /** Timed rounds a workload runs at least, however tight the budget. */
    static final int MIN_ROUNDS = 3;
    /**
     * A round's timed run per policy lasts at least about this long: as many forwards back to back as that takes
     * (the same count for every policy, from the sizing forwards' median), their mean the round's sample. One 10 ms
     * forward per round let a single preemption on the shared 2-vCPU machine move a sample by 50%: two policies with
     * identical plans differed 8% in bench/results/schedule-cpu-20261206-1713.md.
     */
    static final double TIMED_RUN_MILLIS = 150;
    /** The JIT counts as quiet once its total compilation time has not moved for this long... */
    static final long JIT_QUIET_MILLIS = JitWatch.QUIET_NANOS / 1_000_000;
    /** ...and is waited for at most this long. */
    static final long JIT_QUIET_MAX_MILLIS = 4000;

    /** A model run on its input, repeatable. */
    interface Model {
        void run();
    }

    public static void main(String[] args) throws IOException {
        boolean quick = Arrays.asList(args).contains("--quick");
        int rounds = quick ? 3 : 7;
        double budgetMinutes = 8;
        Path scan = Path.of("../shared/data/kitti-velodyne-000001.bin");
        Path out = Path.of("bench/results");
        // 4 x 128 between the two ends: the FFN's 2:4 and dense paths within a few percent of each other, so the
        // per-layer choices differ (schedule-cpu-20261207-0119.md).
        int[][] shapes = quick ? new int[][] {{1, 32}, {4, 128}} : new int[][] {{1, 32}, {4, 128}, {16, 128}};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--scan" -> scan = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--budget-minutes" -> budgetMinutes = Double.parseDouble(args[++i]);
                case "--shapes" -> shapes = parseShapes(args[++i]);
                default -> { }
            }
        }
        Path stores = Files.createTempDirectory("lacuna-schedule-bench");
        long deadline = System.nanoTime() + (long) (budgetMinutes * 60e9);
        Map<String, Object> record = new LinkedHashMap<>();
        try (Session session = Lacuna.open()) {
            DeviceKey device = DeviceKey.of(session.backendName(), session.device());
            long t0 = System.nanoTime();
            EfficiencyTable table = Calibration.measure(session.backend());
            double calibrationMillis = (System.nanoTime() - t0) / 1e6;
            System.out.printf(Locale.ROOT, "device %s%ncalibration %.0f ms: peak %.1f GFLOP/s, %.1f GB/s, %.1f us/call%n",
                    device, calibrationMillis, table.peakFlopsPerSecond() / 1e9, table.bytesPerSecond() / 1e9,
                    table.overheadSeconds() * 1e6);
            record.put("device", device.toString());
            record.put("backend", session.backendName());
            record.put("date", LocalDateTime.now().toString());
            record.put("build", org.lacuna.bench.record.MeasuredCommit.describe());
            record.put("rounds", rounds);
            record.put("calibrationMillis", calibrationMillis);
            record.put("budgetMinutes", budgetMinutes);
            record.put("efficiency", table);
            // The next processes read the device's table from here, as a user's would from the store.
            Path tableFile = stores.resolve("efficiency.json");
            TuningStore.open(tableFile).putEfficiency(device, table);
            double[] lookup = plannedLookup(session, device, table);
            System.out.printf(Locale.ROOT, "planned choosing, steady state: %.1f ns per layer call (a %.2f us "
                    + "one-token 64x64 linear, %d calls a round, best of %d rounds)%n", lookup[0], lookup[1],
                    LOOKUP_CALLS, LOOKUP_ROUNDS);
            record.put("plannedLookupNanosPerLayerCall", lookup[0]);
            record.put("plannedLookupLayerCallMicros", lookup[1]);
            List<Workload> workloads = new ArrayList<>();
            record.put("workloads", workloads);
            String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
            String base = "schedule-" + record.get("backend") + (quick ? "-quick-" : "-") + stamp;
            // Written after every workload, so that an interrupted run still leaves what it measured.
            boolean withScan = Files.exists(scan);
            // Budget shares by expected cost: a small encoder input 1, a batched one 3, MinkUNet 6.
            double[] shares = new double[shapes.length + 1];
            for (int w = 0; w < shapes.length; w++) {
                shares[w] = (long) shapes[w][0] * shapes[w][1] <= 64 ? 1 : 3;
            }
            shares[shapes.length] = withScan ? 6 : 0;
            for (int w = 0; w < shapes.length; w++) {
                long workloadDeadline = share(deadline, shares, w);
                workloads.add(encoder(session, device, table, stores, tableFile, rounds, workloadDeadline,
                        shapes[w][0], shapes[w][1]));
                write(out, base, record);
            }
            if (withScan) {
                workloads.add(minkUNet(session, device, table, stores, tableFile,
                        quick ? MIN_ROUNDS : Math.min(rounds, 5), deadline, scan, quick ? 0.2 : 0.05));
                write(out, base, record);
            } else {
                System.out.println("no scan at " + scan + ": MinkUNet skipped");
            }
        }
    }

    /** {@code --shapes 1x32,4x128,16x128}: the encoder's batch x sequence shapes (none: {@code --shapes none}). */
    static int[][] parseShapes(String text) {
        if (text.equals("none")) {
            return new int[0][];
        }
        return Arrays.stream(text.split(",")).map(shape -> {
            String[] parts = shape.split("x");
            return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
        }).toArray(int[][]::new);
    }

    static final int LOOKUP_CALLS = 100_000;
    static final int LOOKUP_ROUNDS = 5;

    /**
     * A planned layer's choosing once the JIT has compiled it (a model's few forwards in this benchmark run it mostly
     * interpreted): a one-token 64 × 64 linear called {@link #LOOKUP_CALLS} times a round, the host time its
     * forwards charged to choosing, per call, and the call's own time; the best of {@link #LOOKUP_ROUNDS} rounds.
     */
    static double[] plannedLookup(Session session, DeviceKey device, EfficiencyTable table) {
        Scheduler scheduler = scheduler(session, device, table, TuningStore.inMemory(), Policy.predictedOnly());
        float[] w = new float[64 * 64];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextDouble(-1, 1);
        }
        double bestNanos = Double.MAX_VALUE;
        double bestMicros = Double.MAX_VALUE;
        try (Linear layer = Linear.create(session, w, 64, 64, null, Linear.Options.of(DType.F32));
             Tensor x = session.fromFloats(new float[64], DType.F32, 1, 64)) {
            for (int round = 0; round < LOOKUP_ROUNDS; round++) {
                long choosing = scheduler.choosingNanos();
                long start = System.nanoTime();
                for (int i = 0; i < LOOKUP_CALLS; i++) {
                    layer.forward(x).close();
                }
                bestMicros = Math.min(bestMicros, (System.nanoTime() - start) / 1e3 / LOOKUP_CALLS);
                bestNanos = Math.min(bestNanos, (scheduler.choosingNanos() - choosing) / (double) LOOKUP_CALLS);
            }
        }
        return new double[] {bestNanos, bestMicros};
    }

    /** When workload {@code index} should be done: its share of the time left, by the shares of those left. */
    static long share(long deadline, double[] shares, int index) {
        double left = 0;
        for (int i = index; i < shares.length; i++) {
            left += shares[i];
        }
        long now = System.nanoTime();
        return now + (long) (Math.max(0, deadline - now) * (shares[index] / left));
    }

    private static void write(Path out, String base, Map<String, Object> record) throws IOException {
        Files.createDirectories(out);
        Json.MAPPER.writeValue(out.resolve(base + ".json").toFile(), record);
        Files.writeString(out.resolve(base + ".md"), ScheduleMarkdown.render(record));
        System.out.println("wrote " + out.resolve(base + ".md"));
    }

    /**
     * MiniLM's shape (6 layers of 384, 12 heads of 32, FFN 1536, f16), its FFN weights magnitude-pruned to 2:4 (the
     * layer finds them 2:4 and keeps the 2:4 form beside the dense one), layers 3 to 5 keeping half their tokens
     * by L2 norm (EViT-style).
     */
    static Workload encoder(Session session, DeviceKey device, EfficiencyTable table, Path stores, Path tableFile,
                            int rounds, long deadline, int batch, int sequence) throws IOException {
        List<TransformerEncoder> fresh = new ArrayList<>();
        try (EncoderModels m = EncoderModels.open(session, batch, sequence)) {
            List<Model> repeats = new ArrayList<>();
            List<TransformerEncoderLayer.Config> configs = EncoderModels.configs();
            for (int k = 0; k < COLD_REPEATS; k++) {
                TransformerEncoder e = TransformerEncoder.create(session, configs, prunedWeights(configs, 300 + 100 * k));
                fresh.add(e);
                repeats.add(forwards(e, m.xs(), m.sequences()));
            }
            return measure(session, device, table, stores, rounds, deadline, "MiniLM-shaped encoder, 2:4 FFN, keep 0.5 "
                    + "in layers 3-5", batch + " x " + sequence + " tokens", m.model(), m.twin(), tableFile,
                    List.of("--encoder", batch + "x" + sequence), repeats);
        } finally {
            fresh.forEach(TransformerEncoder::close);
        }
    }

    /**
     * Networks of the measured one's shapes with weights of their own, each decided once more under auto on a cold
     * store of its own, after the measured one's cold phases: one cold start is one sample of a noisy machine (at
     * 1 x 32 tokens auto's cold choosing measured 3.3 and 9.7 ms in two runs of the same build, ad hoc, its CPU time
     * 2.2 and 3.4 ms: the wall time holds what the JIT's compiler threads and the collector took of the core), so the
     * target is judged on the median. Their weights are new, so each pays its trials' weight conversions as the first
     * did.
     */
    static final int COLD_REPEATS = 4;

    /**
     * MiniLM's shape (6 layers of 384, 12 heads of 32, FFN 1536, f16), its FFN weights magnitude-pruned to 2:4 (the
     * layer finds them 2:4 and keeps the 2:4 form beside the dense one), layers 3 to 5 keeping half their tokens
     * by L2 norm (EViT-style); and its twin (other weights), on a random input of {@code batch} x {@code sequence}
     * tokens. The same in every process of the benchmark ({@link NextProcessMain}): fixed seeds.
     */
    record EncoderModels(TransformerEncoder encoder, TransformerEncoder twinEncoder, Sequences sequences, Tensor xs)
            implements AutoCloseable {
        static final int HIDDEN = 384;

        /** The six layers' configurations: MiniLM's shapes, layers 3 to 5 keeping half their tokens. */
        static List<TransformerEncoderLayer.Config> configs() {
            List<TransformerEncoderLayer.Config> configs = new ArrayList<>();
            for (int l = 0; l < 6; l++) {
                TransformerEncoderLayer.Config c = TransformerEncoderLayer.Config.of(HIDDEN, 12, 1536, DType.F16);
                configs.add(l >= 3 ? c.withTokenDropping(TokenDropping.keep(0.5, ScoreRule.L2_NORM)) : c);
            }
            return configs;
        }

        static EncoderModels open(Session session, int batch, int sequence) {
            int hidden = HIDDEN;
            List<TransformerEncoderLayer.Config> configs = configs();
            int[] lengths = new int[batch];
            Arrays.fill(lengths, sequence);
            float[] x = new float[batch * sequence * hidden];
            SplittableRandom random = new SplittableRandom(9);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextDouble(-1, 1);
            }
            TransformerEncoder encoder = TransformerEncoder.create(session, configs, prunedWeights(configs, 100));
            TransformerEncoder twin = TransformerEncoder.create(session, configs, prunedWeights(configs, 200));
            Sequences sequences = Sequences.of(session, lengths);
            Tensor xs = session.fromFloats(x, DType.F16, (long) batch * sequence, hidden);
            return new EncoderModels(encoder, twin, sequences, xs);
        }

        Model model() {
            return forwards(encoder, xs, sequences);
        }

        Model twin() {
            return forwards(twinEncoder, xs, sequences);
        }

        @Override
        public void close() {
            xs.close();
            sequences.close();
            twinEncoder.close();
            encoder.close();
        }
    }

    /** Random weights per layer (seeds {@code seed}, {@code seed + 1}, ...), the FFN weights pruned to 2:4. */
    private static List<TransformerEncoderLayer.Weights> prunedWeights(List<TransformerEncoderLayer.Config> configs,
                                                                       int seed) {
        List<TransformerEncoderLayer.Weights> weights = new ArrayList<>();
        for (int l = 0; l < configs.size(); l++) {
            TransformerEncoderLayer.Config c = configs.get(l);
            TransformerEncoderLayer.Weights w = TransformerEncoderLayer.Weights.random(c, seed + l);
            weights.add(new TransformerEncoderLayer.Weights(w.norm1Gamma(), w.norm1Beta(), w.qkvWeight(), w.qkvBias(),
                    w.projWeight(), w.projBias(), w.norm2Gamma(), w.norm2Beta(),
                    TwoFourPruning.prune(w.fc1Weight(), c.ffnHidden(), c.hidden()), w.fc1Bias(),
                    TwoFourPruning.prune(w.fc2Weight(), c.hidden(), c.ffnHidden()), w.fc2Bias()));
        }
        return weights;
    }

    private static Model forwards(TransformerEncoder encoder, Tensor xs, Sequences sequences) {
        return () -> {
            try (Tensor y = encoder.forward(xs, sequences)) {
                y.shape();
            }
        };
    }

    static Workload minkUNet(Session session, DeviceKey device, EfficiencyTable table, Path stores, Path tableFile,
                             int rounds, long deadline, Path scan, double voxel) throws IOException {
        try (MinkUNetModel m = MinkUNetModel.open(session, scan, voxel)) {
            return measure(session, device, table, stores, rounds, deadline, "MinkUNet (SemanticKITTI widths, f32)",
                    scan.getFileName() + " at " + voxel + " m: " + m.input().size() + " voxels", m.model(), null,
                    tableFile, List.of("--scan", scan.toString(), "--voxel", Double.toString(voxel)), List.of());
        }
    }

    /** MinkUNet (SemanticKITTI widths, random weights of seed 1) on the scan voxelised at {@code voxel} metres. */
    record MinkUNetModel(SparseTensor input, MinkUNet net) implements AutoCloseable {
        static MinkUNetModel open(Session session, Path scan, double voxel) throws IOException {
            SparseTensor input = SparseTensor.voxelize(session, PointClouds.read(scan),
                    Voxelization.cubic(voxel, VoxelReduction.MEAN), VoxelFeatures.POSITIONS, DType.F32);
            try {
                return new MinkUNetModel(input, MinkUNet.create(session,
                        MinkUNet.Config.semanticKitti((int) input.channels()), ModelWeights.random(1)));
            } catch (RuntimeException e) {
                input.close();
                throw e;
            }
        }

        Model model() {
            return () -> net.forward(input).close();
        }

        @Override
        public void close() {
            net.close();
            input.close();
        }
    }

    /**
     * Every policy's cold first run, then interleaved timed rounds, then auto's next two processes on its store
     * ({@link NextProcessMain}: JVMs of their own, as a user's next runs). Where
     * {@code twin} is given (the same network with other weights), every policy first runs it on an in-memory store
     * until decided: the JIT then has compiled every candidate's kernels before any cold-store phase is timed, so no
     * policy's choosing cost holds the compilation of kernels another policy would have paid for (auto runs first and
     * would pay for all of them). Weight forms are cached per weight buffer for the process, so auto, first on the
     * measured network, pays the conversions of the candidates its trials serve, and a later policy only those of
     * candidates auto never ran (in its first run, not its choosing). The warm-up is reported apart.
     */
    static Workload measure(Session session, DeviceKey device, EfficiencyTable table, Path stores, int rounds,
                            long deadline, String name, String input, Model model, Model twin, Path tableFile,
                            List<String> workload, List<Model> coldRepeats) throws IOException {
        System.out.println("\n" + name + ", " + input);
        // Which candidates exist: one predicted-only pass lists them per layer kind.
        Scheduler probe = scheduler(session, device, table, TuningStore.inMemory(), Policy.predictedOnly());
        model.run();
        Map<String, Policy> policies = policies(probe.plan());
        double jitWarmUpMillis = twin == null ? 0 : warmUpJit(session, device, table, policies, twin);
        Map<String, Scheduler> schedulers = new LinkedHashMap<>();
        Map<String, ColdPhase> first = new LinkedHashMap<>();
        double jitQuietWait = 0;
        for (var p : policies.entrySet()) {
            Path file = storeFile(stores, name, input, p.getKey().replaceAll("\\W", "_"));
            Files.deleteIfExists(file);
            jitQuietWait += awaitJitQuiet();
            Scheduler s = scheduler(session, device, table, TuningStore.open(file), p.getValue());
            ColdPhase phase = coldPhase(s, model);
            first.put(p.getKey(), phase);
            schedulers.put(p.getKey(), s);
            System.out.printf(Locale.ROOT, "  %-34s first run %8.1f ms, decided after %d forwards, choosing %7.2f ms "
                    + "host (%.2f ms CPU deciding) + %7.2f ms slower live calls%s%n", p.getKey(), phase.firstMillis(),
                    phase.forwards(), phase.hostMillis(), phase.hostCpuMillis(), phase.trialExtraMillis(),
                    s.deciding() > 0 ? " (" + s.deciding() + " still deciding)" : "");
        }
        List<ColdPhase> repeats = new ArrayList<>();
        for (int k = 0; k < coldRepeats.size(); k++) {
            Model fresh = coldRepeats.get(k);
            Path file = storeFile(stores, name, input, "auto-repeat-" + k);
            Files.deleteIfExists(file);
            jitQuietWait += awaitJitQuiet();
            ColdPhase phase = coldPhase(scheduler(session, device, table, TuningStore.open(file), Policy.auto()),
                    fresh);
            repeats.add(phase);
            System.out.printf(Locale.ROOT, "  auto, cold store, fresh network %d: decided after %d forwards, choosing "
                    + "%.2f ms host (%.2f ms CPU deciding) + %.2f ms slower live calls%n", k + 1, phase.forwards(),
                    phase.hostMillis(), phase.hostCpuMillis(), phase.trialExtraMillis());
        }
        // Sizing: one forward per policy (its layers plan again on the switch), the median sets how many forwards
        // back to back make each round's timed run (the same count for every policy).
        double[] sizing = new double[schedulers.size()];
        int sized = 0;
        for (Scheduler s : schedulers.values()) {
            session.useScheduler(s);
            model.run();
            long start = System.nanoTime();
            model.run();
            sizing[sized++] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(sizing);
        int perRun = (int) Math.max(1, Math.ceil(TIMED_RUN_MILLIS / Math.max(1e-3, sizing[sizing.length / 2])));
        List<String> order = new ArrayList<>(schedulers.keySet());
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        int done = 0;
        for (int r = 0; r < rounds && (r < MIN_ROUNDS || System.nanoTime() < deadline); r++, done++) {
            // The order rotates from round to round, so that no policy always follows the same other one.
            for (int k = 0; k < order.size(); k++) {
                String policy = order.get((k + r) % order.size());
                // A switch makes each layer plan again (a lookup in the scheduler's decisions): an untimed forward.
                session.useScheduler(schedulers.get(policy));
                model.run();
                long start = System.nanoTime();
                for (int f = 0; f < perRun; f++) {
                    model.run();
                }
                samples.computeIfAbsent(policy, key -> new ArrayList<>()).add((System.nanoTime() - start) / 1e6
                        / perRun);
            }
        }
        List<PolicyRun> runs = new ArrayList<>();
        // Each policy's plan read once (a read flushes the scheduler's store): every policy but auto runs no more.
        Map<String, Plan> plans = new LinkedHashMap<>();
        for (var s : schedulers.entrySet()) {
            double[] v = samples.get(s.getKey()).stream().mapToDouble(Double::doubleValue).toArray();
            double[] sorted = v.clone();
            Arrays.sort(sorted);
            ColdPhase f = first.get(s.getKey());
            Plan plan = s.getValue().plan();
            plans.put(s.getKey(), plan);
            Map<String, Map<String, Integer>> chosen = choices(plan);
            runs.add(new PolicyRun(s.getKey(), sorted[sorted.length / 2], v, f.firstMillis(), f.forwards(),
                    f.hostMillis(), f.hostCpuMillis(), f.trialExtraMillis(), f.choosingMillis(), chosen));
            System.out.printf(Locale.ROOT, "  %-34s median %8.1f ms %s%n", s.getKey(), sorted[sorted.length / 2],
                    chosen);
        }
        if (done < rounds) {
            System.out.printf("  the time budget ran out: %d of %d rounds%n", done, rounds);
        }
        // auto planned: its layers plan once more on the switch back (from its decisions in memory), then
        // PLANNED_FORWARDS forwards whose choosing is the layers' plan lookups alone.
        Scheduler auto = schedulers.get("auto");
        session.useScheduler(auto);
        model.run();
        // The median forward's: one preemption inside a sub-microsecond lookup would otherwise dominate a mean.
        double[] planned = new double[PLANNED_FORWARDS];
        for (int i = 0; i < PLANNED_FORWARDS; i++) {
            long before = auto.choosingNanos();
            model.run();
            planned[i] = (auto.choosingNanos() - before) / 1e3;
        }
        Arrays.sort(planned);
        double plannedMicros = planned[PLANNED_FORWARDS / 2];
        // The next process on the file the cold auto run wrote, and the one after it: JVMs of their own.
        Path autoFile = storeFile(stores, name, input, "auto");
        // auto's plan, read after its planned forwards (a waiting warm re-trial may have decided during them); reading
        // it flushes auto's store to the file the next processes open.
        Plan autoPlan = auto.plan();
        int provisional = 0;
        for (Plan.Entry e : autoPlan.entries()) {
            provisional += e.decision().reason().contains("provisional (") ? 1 : 0;
        }
        NextProcessMain.Result second = NextProcessMain.launch(NextProcessMain.arguments(autoFile, tableFile,
                workload));
        NextProcessMain.Result third = NextProcessMain.launch(NextProcessMain.arguments(autoFile, tableFile,
                workload));
        // A new scheduler in this JVM, compiled and warm, on the confirmed file: what a service pays that opens
        // another session on a store an earlier run confirmed (the JVMs above pay their first forward's cold code).
        Scheduler confirmedHere = scheduler(session, device, table, TuningStore.open(autoFile), Policy.auto());
        model.run();
        Recheck recheck = new Recheck(second.rechecked(), second.confirmedByPrediction(), second.forwards(), second.hostMillis(),
                second.hostCpuMillis(), second.trialExtraMillis(), third.hostMillis(), third.hostCpuMillis(),
                third.storedDecisions(), third.forwards(), third.trialExtraMillis(), third.firstForwardMillis(),
                confirmedHere.choosingNanos() / 1e6, confirmedHere.choosingCpuNanos() / 1e6,
                confirmedHere.deciding());
        TrialBudget budget = first.get("auto").budget();
        int stored = second.storedDecisions();
        // Decisions with a choice to remember: a layer with one candidate (or a forced one) has nothing to store.
        int choosing = second.choosingDecisions();
        ColdPhase autoFirst = first.get("auto");
        double coldMillis = autoFirst.choosingMillis();
        System.out.printf(Locale.ROOT, "  auto choosing: cold store %.2f ms over %d forwards (%.2f host, %.2f slower "
                        + "live calls; %d signatures decided for %d layer decisions, %d provisional; predicted forward "
                        + "%.2f ms, trial budget %.2f ms, spent %.2f ms), warm store %.2f ms host + %.2f ms re-check "
                        + "calls over %d forwards (%d signatures re-checked; %d of %d decisions with a choice from the "
                        + "store), confirmed store %.2f ms, planned %.2f us%n", coldMillis, autoFirst.forwards(),
                autoFirst.hostMillis(), autoFirst.trialExtraMillis(), auto.decisionsMade(), second.decisions(),
                provisional, budget.predictedForwardMillis(), budget.budgetMillis(), budget.spentMillis(),
                recheck.hostMillis(), recheck.trialExtraMillis(), recheck.forwards(), recheck.rechecked(), stored,
                choosing, recheck.confirmedStoreChoosingMillis(), plannedMicros);
        double autoMedian = runs.stream().filter(r -> r.policy().equals("auto")).findFirst().orElseThrow()
                .medianMillis();
        Map<String, Plan> fixedPlans = new LinkedHashMap<>();
        plans.forEach((policy, plan) -> {
            if (policy.startsWith(FIXED)) {
                fixedPlans.put(policy, plan);
            }
        });
        Plan fastestMeasured = plans.get("fastest-measured");
        PolicyComparison.Headroom headroom = PolicyComparison.headroom(fastestMeasured, fixedPlans);
        Map<String, double[]> perRound = new LinkedHashMap<>();
        runs.forEach(r -> perRound.put(r.policy(), r.samplesMillis()));
        List<PolicyComparison.PairedRatio> autoPaired = PolicyComparison.pairedRatios(perRound);
        return new Workload(name, input, runs, done, second.hostMillis(), stored, choosing,
                second.decisions(), auto.decisionsMade(), coldMillis, autoFirst.forwards(),
                autoFirst.hostMillis(), autoFirst.trialExtraMillis(), plannedMicros, autoMedian, autoPlan.explain(),
                jitWarmUpMillis, budget, provisional, recheck, autoFirst.hostCpuMillis(), perRun, jitQuietWait,
                fastestMeasured.explain(), repeats, coldStartsMedian(coldMillis, repeats),
                headroom, autoPaired);
    }

    /**
     * The median of auto's cold-store choosing over the measured network's cold start and {@code repeats}' (null
     * without repeats): what the target is judged on.
     */
    static Double coldStartsMedian(double firstMillis, List<ColdPhase> repeats) {
        if (repeats.isEmpty()) {
            return null;
        }
        double[] all = new double[repeats.size() + 1];
        all[0] = firstMillis;
        for (int k = 0; k < repeats.size(); k++) {
            all[k + 1] = repeats.get(k).choosingMillis();
        }
        return SampleStatistics.of(all).median();
    }

    /** The store file of one policy's (or run's) cold phase on one workload, in {@code stores}. */
    private static Path storeFile(Path stores, String workload, String input, String run) {
        return stores.resolve(workload.hashCode() + "-" + input.hashCode() + "-" + run + ".json");
    }

    /**
     * {@code model}'s forwards under {@code s} (the session's scheduler) until every live trial has decided (they
     * decide on the forwards' own calls) and every warm re-trial has run, {@link Scheduler#MAX_DECIDING_FORWARDS} at
     * most: the first forward's time, the forwards taken and what choosing cost over them, and the budget as the
     * phase left it (the timed rounds' re-planning charges the scheduler too).
     */
    static ColdPhase coldPhase(Scheduler s, Model model) {
        long[] firstNanos = {0};
        Runnable forward = () -> {
            long start = System.nanoTime();
            model.run();
            if (firstNanos[0] == 0) {
                firstNanos[0] = System.nanoTime() - start;
            }
        };
        // Waiting for a quiet JIT as long as the forwards allow: a warm re-trial's cost counts as this phase's
        // choosing, not as the timed rounds'.
        int forwards = s.runUntilDecided(forward, Scheduler.MAX_DECIDING_FORWARDS, Long.MAX_VALUE);
        return new ColdPhase(firstNanos[0] / 1e6, forwards, s.choosingNanos() / 1e6, s.choosingCpuNanos() / 1e6,
                s.trialExtraNanos() / 1e6, new TrialBudget(s.predictedForwardMillis(), s.estimatedForwardMillis(),
                s.trialBudgetMillis(), s.choosingSpentMillis()));
    }

    /** The name of a policy forcing one candidate per layer kind starts so: "fixed linear=vector-dense". */
    static final String FIXED = "fixed ";

    /**
     * The policies the benchmark compares on a model whose predicted-only pass made {@code probe}: auto,
     * fastest-measured, predicted-only and, per layer kind with several candidates, each candidate forced.
     */
    static Map<String, Policy> policies(Plan probe) {
        Map<String, List<String>> offered = new TreeMap<>();
        for (Plan.Entry e : probe.entries()) {
            for (Decision.Estimate c : e.decision().candidates()) {
                List<String> names = offered.computeIfAbsent(e.decision().kind(), k -> new ArrayList<>());
                if (!names.contains(c.name())) {
                    names.add(c.name());
                }
            }
        }
        Map<String, Policy> policies = new LinkedHashMap<>();
        policies.put("auto", Policy.auto());
        policies.put("fastest-measured", Policy.fastestMeasured());
        policies.put("predicted-only", Policy.predictedOnly());
        offered.forEach((kind, names) -> {
            if (names.size() > 1) {
                for (String n : names) {
                    policies.put(FIXED + kind + "=" + n, Policy.predictedOnly().forcing(kind, n));
                }
            }
        });
        return policies;
    }

    /**
     * Waits until the JIT's total compilation time has not moved for {@link #JIT_QUIET_MILLIS} (at most
     * {@link #JIT_QUIET_MAX_MILLIS}), so that a cold phase's host time choosing does not hold the compiler threads'
     * work queued by what ran before it (on two cores they take the choosing thread's core); returns the wait, ms.
     * Every policy's cold phase, and the next processes', start after such a wait.
     */
    static double awaitJitQuiet() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return 0;
        }
        long start = System.nanoTime();
        long last = jit.getTotalCompilationTime();
        try {
            while (System.nanoTime() - start < JIT_QUIET_MAX_MILLIS * 1_000_000) {
                Thread.sleep(JIT_QUIET_MILLIS);
                long now = jit.getTotalCompilationTime();
                if (now == last) {
                    break;
                }
                last = now;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return (System.nanoTime() - start) / 1e6;
    }

    /**
     * Forwards of the twin per policy in the JIT warm-up, at least (and until decided), unless they take longer than
     * {@link #WARM_UP_MILLIS_PER_POLICY}. Three left the kernels of a 1 x 32-token forward (8 ms) short of their
     * optimising compilations, which then ran during auto's cold phase on the 2-vCPU machine (attention's
     * single-pass loop, the tile math, the row narrowing: -XX:+PrintCompilation, ad hoc at 21:15) and took a core
     * from its choosing sections: 8.7 ms of wall time against 2.8 ms of the choosing thread's CPU in its first forward.
     */
    static final int WARM_UP_FORWARDS = 12;
    static final double WARM_UP_MILLIS_PER_POLICY = 1500;

    /**
     * The twin under every policy, each on its own in-memory store: {@link #WARM_UP_FORWARDS} forwards at least
     * (three where they take longer than {@link #WARM_UP_MILLIS_PER_POLICY}), and until decided.
     */
    static double warmUpJit(Session session, DeviceKey device, EfficiencyTable table,
                                    Map<String, Policy> policies, Model twin) {
        long start = System.nanoTime();
        for (Policy policy : policies.values()) {
            long policyStart = System.nanoTime();
            Scheduler s = scheduler(session, device, table, TuningStore.inMemory(), policy);
            for (int forwards = s.runUntilDecided(twin::run, Scheduler.MAX_DECIDING_FORWARDS);
                 forwards < 3 || forwards < WARM_UP_FORWARDS
                         && (System.nanoTime() - policyStart) / 1e6 < WARM_UP_MILLIS_PER_POLICY; forwards++) {
                twin.run();
            }
        }
        double millis = (System.nanoTime() - start) / 1e6;
        System.out.printf(Locale.ROOT, "  JIT warm-up: every policy on the twin network, %.1f ms%n", millis);
        return millis;
    }

    private static Scheduler scheduler(Session session, DeviceKey device, EfficiencyTable table, TuningStore store,
                                       Policy policy) {
        Scheduler s = new Scheduler(device, table, store, policy, session.backend()::newTimer);
        session.useScheduler(s);
        return s;
    }

    /** Per layer kind, how many layer decisions chose each candidate. */
    static Map<String, Map<String, Integer>> choices(Plan plan) {
        Map<String, Map<String, Integer>> out = new TreeMap<>();
        for (Plan.Entry e : plan.entries()) {
            out.computeIfAbsent(e.decision().kind(), k -> new TreeMap<>()).merge(e.decision().chosen(), 1,
                    Integer::sum);
        }
        return out;
    }
}
