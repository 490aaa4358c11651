package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.schedule.AttentionCandidates;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.EfficiencyTable;
import org.lacuna.runtime.schedule.JitWatch;
import org.lacuna.runtime.schedule.KernelRate;
import org.lacuna.runtime.schedule.Plan;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.schedule.TuningStore;
import org.lacuna.runtime.sparseconv.ConvGeometry;

/**
 * Layers run the plan through their session's scheduler, and the plan never changes their results beyond the dtype's
 * tolerance: every policy and every forced candidate computes the same layer.
 */
class ScheduledLayersTest {
    @TempDir
    Path folder;

    /** A hand-written CPU table: the tests must not depend on a measurement (LiveServingTest uses it too). */
    static EfficiencyTable table() {
        return new EfficiencyTable(150e9, 20e9, 5e-6, 2, Map.of(
                "cpu.blas-dense", new KernelRate(150e9, 20e9, 5e-6),
                "cpu.vector-dense", new KernelRate(120e9, 20e9, 5e-6),
                "cpu.two-four", new KernelRate(60e9, 20e9, 20e-6),
                "cpu.csr", new KernelRate(8e9, 20e9, 10e-6)), "test table");
    }

    private static Scheduler scheduler(Session s, Policy policy) {
        return scheduler(s, policy, TuningStore.inMemory());
    }

    /**
     * A scheduler over {@link #table()} and {@code store}, made {@code s}'s. Its JIT counts as quiet: these tests count
     * trials and calls, and a test JVM's JIT may not go quiet for the 250 ms a warm re-trial waits for (that re-trial
     * is runtime's WarmRetryTest's).
     */
    static Scheduler scheduler(Session s, Policy policy, TuningStore store) {
        Scheduler scheduler = new Scheduler(DeviceKey.of(s.backendName(), s.device()), table(), store, policy,
                s.backend()::newTimer, Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS,
                Scheduler.DEFAULT_TRIAL_BUDGET, JitWatch.quiet());
        s.useScheduler(scheduler);
        return scheduler;
    }

    static float[] random(SplittableRandom random, int n, DType dtype) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = HalfFloats.roundTo(dtype, (float) random.nextDouble(-1, 1));
        }
        return v;
    }

    /** GELU(x · wᵀ + b) in double, w rounded to F16 as the layers store it. */
    static double[] reference(float[] x, float[] w, float[] b, int tokens, int out, int in) {
        return reference(x, w, b, tokens, out, in, Activation.GELU);
    }

    /** activation(x · wᵀ + b) in double, w rounded to F16 as the layers store it. */
    static double[] reference(float[] x, float[] w, float[] b, int tokens, int out, int in, Activation activation) {
        double[] y = new double[tokens * out];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double acc = b[o];
                for (int k = 0; k < in; k++) {
                    acc += (double) x[t * in + k] * HalfFloats.roundTo(DType.F16, w[o * in + k]);
                }
                y[t * out + o] = activation.apply(acc);
            }
        }
        return y;
    }

    @Test
    void noPolicyAndNoForcedCandidateChangesALinearsResult() {
        SplittableRandom random = new SplittableRandom(11);
        int tokens = 37;
        int in = 96;
        int out = 80;
        float[] twoFour = TwoFourPruning.prune(random(random, out * in, DType.F32), out, in);
        float[] verySparse = random(random, out * in, DType.F32);
        for (int i = 0; i < verySparse.length; i++) {
            verySparse[i] = i % 37 == 0 ? verySparse[i] : 0f;
        }
        float[] b = random(random, out, DType.F32);
        float[] x = random(random, tokens * in, DType.F16);
        try (Session s = Lacuna.open("cpu", 0); Tensor xs = s.fromFloats(x, DType.F16, tokens, in)) {
            for (float[] w : List.of(twoFour, verySparse)) {
                double[] want = reference(x, w, b, tokens, out, in);
                Linear layer = Linear.create(s, w, out, in, b, Linear.Options.of(DType.F16).withOutputType(DType.F32)
                        .withActivation(Activation.GELU));
                scheduler(s, Policy.predictedOnly());
                List<String> names = new ArrayList<>();
                layer.forward(xs).close();
                layer.decisions().values().forEach(bucket -> bucket.forEach(
                        d -> d.candidates().forEach(c -> names.add(c.name()))));
                assertTrue(names.contains(w == twoFour ? "two-four" : "csr"), names::toString);
                List<Policy> policies = new ArrayList<>(List.of(Policy.auto(), Policy.fastestMeasured(),
                        Policy.predictedOnly()));
                names.forEach(n -> policies.add(Policy.predictedOnly().forcing("linear", n)));
                for (Policy policy : policies) {
                    Scheduler scheduler = scheduler(s, policy);
                    // While a live trial decides, its calls are served by the candidates in turn: every call's
                    // result must be the layer's, whichever candidate served it.
                    int[] calls = {0};
                    scheduler.runUntilDecided(() -> {
                        float[] got = layer.forward(xs).toFloatArray();
                        calls[0]++;
                        for (int i = 0; i < want.length; i++) {
                            assertEquals(want[i], got[i], 1e-4, policy + ", call " + calls[0] + ", element " + i);
                        }
                    }, 100);
                    Decision d = layer.decisions().get(64L).getFirst();
                    assertTrue(d.source() != Decision.Source.DECIDING, d::toString);
                    policy.forcedFor("linear").ifPresent(f -> assertEquals(f, d.chosen()));
                    if (policy.mode() == Policy.Mode.FASTEST_MEASURED) {
                        assertTrue(d.candidates().stream().allMatch(c -> c.measuredMillis() != null), d::toString);
                        assertTrue(calls[0] > names.size(), "fastest-measured served calls with every candidate");
                    } else if (policy.mode() == Policy.Mode.PREDICTED_ONLY) {
                        assertEquals(1, calls[0], "a policy that never measures decides at once");
                    }
                }
                layer.close();
            }
        }
    }

    @Test
    void aReCheckHeldWhileTheJitCompilesServesTheStoredChoiceThenRunsOnTheLayersCalls() throws IOException {
        SplittableRandom random = new SplittableRandom(23);
        int tokens = 48;
        int in = 64;
        int out = 96;
        float[] w1 = random(random, out * in, DType.F32);
        float[] w2 = random(random, out * in, DType.F32);
        float[] b = random(random, out, DType.F32);
        float[] x = random(random, tokens * in, DType.F16);
        double[] want1 = reference(x, w1, b, tokens, out, in);
        double[] want2 = reference(x, w2, b, tokens, out, in);
        Path file = folder.resolve("held-recheck.json");
        try (Session s = Lacuna.open("cpu", 0); Tensor xs = s.fromFloats(x, DType.F16, tokens, in)) {
            DeviceKey device = DeviceKey.of(s.backendName(), s.device());
            Linear.Options options = Linear.Options.of(DType.F16).withOutputType(DType.F32)
                    .withActivation(Activation.GELU);
            Linear first = Linear.create(s, w1, out, in, b, options);
            Linear second = Linear.create(s, w2, out, in, b, options);
            // Two layers of one signature, every call's result checked: whichever candidate serves it, it is theirs.
            Runnable forward = () -> {
                for (Linear layer : List.of(first, second)) {
                    float[] got = layer.forward(xs).toFloatArray();
                    double[] want = layer == first ? want1 : want2;
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-4, "element " + i);
                    }
                }
            };
            // An earlier process measured the dense paths, and left its choice provisional with the runner-up's time
            // unknown, so that the next process re-checks it rather than confirm it by the prediction.
            Scheduler earlier = scheduler(s, Policy.fastestMeasured(), TuningStore.open(file));
            earlier.runUntilDecided(forward, 100);
            earlier.flush();
            TuningStore edited = TuningStore.open(file);
            edited.choices(device).forEach((key, c) -> edited.putChoice(device, key, new TuningStore.StoredChoice(
                    c.chosen(), c.policy(), c.source(), c.candidates(), c.predictedMillis(),
                    Map.of(c.chosen(), c.measuredMillis().get(c.chosen())), c.recorded(), c.measuring(), true),
                    Map.of()));
            edited.flush();

            long[] compilationMillis = {0};
            long[] nanos = {0};
            TuningStore store = TuningStore.open(file);
            Scheduler next = new Scheduler(device, table(), store, Policy.auto(), s.backend()::newTimer,
                    Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS, Double.POSITIVE_INFINITY,
                    new JitWatch(() -> compilationMillis[0], () -> nanos[0]));
            s.useScheduler(next);
            // The JIT compiling: the stored choice serves both layers, and the re-check waits.
            for (int f = 0; f < 3; f++) {
                nanos[0] += JitWatch.READ_EVERY_NANOS;
                compilationMillis[0]++;
                forward.run();
                next.flushLater();
            }
            assertEquals(1, next.deciding(), "the re-check waits");
            for (Linear layer : List.of(first, second)) {
                Decision held = layer.decisions().get(64L).getFirst();
                assertEquals(Decision.Source.STORED, held.source(), held::toString);
                assertTrue(held.reason().endsWith(Scheduler.RECHECK_HELD), held.reason());
            }
            // Quiet: the re-check runs on both layers' calls, and confirms a choice for both.
            nanos[0] += JitWatch.QUIET_NANOS + JitWatch.READ_EVERY_NANOS;
            next.runUntilDecided(forward, 100);
            assertEquals(0, next.deciding(), () -> next.plan().explain());
            Decision rechecked = first.decisions().get(64L).getFirst();
            assertTrue(rechecked.reason().contains(Scheduler.CONFIRMED_BY_RECHECK), rechecked.reason());
            assertEquals(rechecked, second.decisions().get(64L).getFirst(), "one decision for the signature");
            assertTrue(store.choices(device).values().stream().noneMatch(TuningStore.StoredChoice::provisionalChoice));
            first.close();
            second.close();
        }
    }

    @Test
    void convolutionsOnOneMapShareTheirDecisionAndAreProfiled() throws Exception {
        Random random = new Random(3);
        int[] coords = RandomSparse.coordinates(random, 300, 1, 0, 12, 1);
        try (Session s = Lacuna.open("cpu", 0)) {
            Scheduler scheduler = scheduler(s, Policy.auto());
            SparseTensor x = SparseTensor.of(s, coords, RandomSparse.floats(random, 300 * 4), 4, DType.F32, 1, 1, 1);
            SparseConv3d a = SparseConv3d.create(s, ConvGeometry.submanifold(3), 4, 8,
                    RandomSparse.floats(random, 27 * 4 * 8), null, SparseConv3d.Options.of(DType.F32));
            SparseConv3d b = SparseConv3d.create(s, ConvGeometry.submanifold(3), 4, 16,
                    RandomSparse.floats(random, 27 * 4 * 16), null, SparseConv3d.Options.of(DType.F32));
            s.profiler().start();
            a.forward(x).close();
            b.forward(x).close();
            var events = s.profiler().stop();
            var entries = scheduler.plan().entries();
            assertEquals(2, entries.size());
            assertSame(entries.get(0).decision(), entries.get(1).decision(), "one decision for the shared map");
            Decision d = entries.get(0).decision();
            assertEquals(Decision.Source.ONLY_CANDIDATE, d.source(), "the CPU has one convolution dataflow");
            assertEquals("fused-blocked", d.chosen());
            assertEquals(300L, ((Number) d.statistics().get("pointsIn")).longValue());
            assertEquals(List.of(a.name(), b.name()), events.stream().map(e -> e.layer()).toList());
            Path trace = folder.resolve("trace.json");
            s.profiler().writeChromeTrace(trace);
            assertEquals(2, new ObjectMapper().readTree(trace.toFile()).get("traceEvents").size());
            assertTrue(scheduler.plan().explain().contains(a.name()));
        }
    }

    @Test
    void aLayerThatKeepsEveryTokenMayRunInPlaceWithTheSameResult() {
        SplittableRandom random = new SplittableRandom(21);
        int[] lengths = {5, 1, 40, 17};
        int tokens = Arrays.stream(lengths).sum();
        TransformerEncoderLayer.Config base = TransformerEncoderLayer.Config.of(64, 2, 96, DType.F16);
        TransformerEncoderLayer.Weights weights = TransformerEncoderLayer.Weights.random(base, random.nextLong());
        float[] x = random(random, tokens * 64, DType.F16);
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, lengths);
             Tensor xs = s.fromFloats(x, DType.F16, tokens, 64)) {
            TransformerEncoderLayer keepAll = TransformerEncoderLayer.create(s,
                    base.withTokenDropping(TokenDropping.keep(1.0, ScoreRule.L2_NORM)), weights);
            TransformerEncoderLayer half = TransformerEncoderLayer.create(s,
                    base.withTokenDropping(TokenDropping.keep(0.5, ScoreRule.L2_NORM)), weights);
            float[][] results = new float[2][];
            int i = 0;
            for (String forced : List.of(AttentionCandidates.IN_PLACE, AttentionCandidates.KEPT_TOKENS)) {
                Scheduler scheduler = scheduler(s, Policy.predictedOnly().forcing("attention", forced));
                results[i++] = keepAll.forward(xs, seq).toFloatArray();
                Decision d = scheduler.plan().entries().stream().filter(e -> e.layer().equals(keepAll.name()))
                        .findFirst().orElseThrow().decision();
                assertEquals(forced, d.chosen());
                assertEquals(2, d.candidates().size());
                half.forward(xs, seq).close();
                Decision dropping = scheduler.plan().entries().stream().filter(e -> e.layer().equals(half.name()))
                        .findFirst().orElseThrow().decision();
                assertEquals(List.of(AttentionCandidates.KEPT_TOKENS),
                        dropping.candidates().stream().map(Decision.Estimate::name).toList(),
                        "a layer that drops tokens is never replaced by one that does not");
            }
            for (int k = 0; k < results[0].length; k++) {
                assertEquals(results[0][k], results[1][k], 2e-2 * Math.max(1, Math.abs(results[0][k])), "element " + k);
            }
        }
    }

    /**
     * A cold store's first forward of a model serves every linear layer its prediction, trial or not, so it computes
     * what predicted-only's does, bit for bit; at its end each trial starts where the budget affords it (all of them
     * with a budget of the whole of time) and otherwise decides on the prediction (all of them with none), stored.
     */
    @Test
    void aModelsFirstForwardServesThePredictionsAndItsTrialsStartOrDecideAtItsEnd() {
        SplittableRandom random = new SplittableRandom(47);
        int hidden = 64;
        TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(hidden, 2, 96, DType.F16);
        List<TransformerEncoderLayer.Config> configs = List.of(config, config);
        List<TransformerEncoderLayer.Weights> weights = List.of(TransformerEncoderLayer.Weights.random(config, 5),
                TransformerEncoderLayer.Weights.random(config, 6));
        int[] lengths = {7, 12};
        int tokens = Arrays.stream(lengths).sum();
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, lengths);
             Tensor xs = s.fromFloats(random(random, tokens * hidden, DType.F16), DType.F16, tokens, hidden)) {
            TransformerEncoder encoder = TransformerEncoder.create(s, configs, weights);
            scheduler(s, Policy.predictedOnly());
            float[] predicted;
            try (Tensor y = encoder.forward(xs, seq)) {
                predicted = y.toFloatArray();
            }
            for (double share : new double[] {0, Double.POSITIVE_INFINITY}) {
                TuningStore store = TuningStore.inMemory();
                Scheduler scheduler = new Scheduler(DeviceKey.of(s.backendName(), s.device()), table(), store,
                        Policy.auto(), s.backend()::newTimer, Scheduler.DEFAULT_MARGIN,
                        Scheduler.DEFAULT_BUDGET_MILLIS, share, JitWatch.quiet());
                s.useScheduler(scheduler);
                try (Tensor y = encoder.forward(xs, seq)) {
                    assertTrue(Arrays.equals(predicted, y.toFloatArray()), "budget share " + share
                            + ": the first forward serves the predictions");
                }
                List<Decision> linears = scheduler.plan().entries().stream().map(e -> e.decision())
                        .filter(d -> d.kind().equals("linear")).toList();
                assertEquals(8, linears.size(), "four linears a layer");
                if (share == 0) {
                    assertEquals(0, scheduler.deciding(), "nothing affordable: every trial decided at the forward's end");
                    for (Decision d : linears) {
                        assertEquals(Decision.Source.PREDICTED, d.source(), d.reason());
                        assertTrue(d.reason().contains("affords no other candidate its first call"), d.reason());
                    }
                    assertEquals(4, store.choices(scheduler.device()).size(), "one stored choice per signature");
                } else {
                    assertTrue(scheduler.deciding() > 0, "every trial started");
                    for (Decision d : linears) {
                        assertEquals(Decision.Source.DECIDING, d.source(), d.reason());
                    }
                    scheduler.runUntilDecided(() -> encoder.forward(xs, seq).close(), 100);
                    assertEquals(0, scheduler.deciding());
                    for (Plan.Entry e : scheduler.plan().entries()) {
                        if (e.decision().kind().equals("linear")) {
                            assertEquals(Decision.Source.MEASURED, e.decision().source(), e.decision().reason());
                        }
                    }
                }
            }
            encoder.close();
        }
    }

    /**
     * A first forward that fails after its first layer's trials opened ends all the same: the next forward's trials do
     * not wait for it, and those it held are not decided on the share of the layers that ran before the failure but
     * at the end of the next forward that ends whole. With no budget, a held trial then decides on the prediction,
     * while a trial opened in a later forward starts at once (and decides on its own rules).
     */
    @Test
    void aFailedFirstForwardEndsButItsHeldTrialsWaitForAWholeForward() {
        SplittableRandom random = new SplittableRandom(53);
        TransformerEncoderLayer.Config small = TransformerEncoderLayer.Config.of(64, 2, 96, DType.F16);
        TransformerEncoderLayer.Config wide = TransformerEncoderLayer.Config.of(128, 4, 192, DType.F16);
        int[] lengths = {7, 12};
        int tokens = Arrays.stream(lengths).sum();
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, lengths);
             Tensor xs = s.fromFloats(random(random, tokens * 64, DType.F16), DType.F16, tokens, 64);
             Tensor ws = s.fromFloats(random(random, tokens * 128, DType.F16), DType.F16, tokens, 128)) {
            Scheduler scheduler = new Scheduler(DeviceKey.of(s.backendName(), s.device()), table(),
                    TuningStore.inMemory(), Policy.auto(), s.backend()::newTimer, Scheduler.DEFAULT_MARGIN,
                    Scheduler.DEFAULT_BUDGET_MILLIS, 0, JitWatch.quiet());
            s.useScheduler(scheduler);
            TransformerEncoderLayer first = TransformerEncoderLayer.create(s, small,
                    TransformerEncoderLayer.Weights.random(small, 9)).named("failing.0");
            TransformerEncoderLayer closed = TransformerEncoderLayer.create(s, small,
                    TransformerEncoderLayer.Weights.random(small, 10)).named("failing.1");
            closed.close();
            TransformerEncoder failing = TransformerEncoder.of(s, List.of(first, closed));
            assertThrows(LacunaException.class, () -> failing.forward(xs, seq));
            assertEquals(4, scheduler.deciding(), "the first layer's four trials, held");
            for (Plan.Entry e : scheduler.plan().entries()) {
                assertTrue(e.decision().reason().startsWith("deciding once the first forward has run"),
                        e.layer() + ": " + e.decision().reason());
            }
            try (TransformerEncoder other = TransformerEncoder.create(s, List.of(wide),
                    List.of(TransformerEncoderLayer.Weights.random(wide, 11)))) {
                other.forward(ws, seq).close();
            }
            for (Plan.Entry e : scheduler.plan().entries()) {
                String reason = e.decision().reason();
                if (e.layer().startsWith("failing.")) {
                    assertEquals(Decision.Source.PREDICTED, e.decision().source(), e.layer() + ": " + reason);
                    assertTrue(reason.contains("affords no other candidate"), e.layer() + ": " + reason);
                } else {
                    assertFalse(reason.contains("the first forward"), e.layer() + " was not held: " + reason);
                }
            }
            failing.close();
        }
    }

    @Test
    void aPlannedForwardAsksTheSchedulerNothingAndTheStoreIsWrittenOncePerPlan() {
        SplittableRandom random = new SplittableRandom(31);
        int hidden = 64;
        TransformerEncoderLayer.Config dense = TransformerEncoderLayer.Config.of(hidden, 2, 96, DType.F16);
        TransformerEncoderLayer.Config dropping = dense.withTokenDropping(TokenDropping.keep(0.5,
                ScoreRule.L2_NORM));
        List<TransformerEncoderLayer.Config> configs = List.of(dense, dropping);
        List<TransformerEncoderLayer.Weights> weights = List.of(TransformerEncoderLayer.Weights.random(dense, 1),
                TransformerEncoderLayer.Weights.random(dropping, 2));
        int[] lengths = {9, 30, 3};
        int tokens = Arrays.stream(lengths).sum();
        Path file = folder.resolve("store.json");
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, lengths);
             Tensor xs = s.fromFloats(random(random, tokens * hidden, DType.F16), DType.F16, tokens, hidden)) {
            TuningStore store = TuningStore.open(file);
            // A quiet JIT: this test counts what a planned forward asks, not when the JIT goes quiet in a test JVM.
            Scheduler scheduler = new Scheduler(DeviceKey.of(s.backendName(), s.device()), table(), store,
                    Policy.auto(), s.backend()::newTimer, Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS,
                    Scheduler.DEFAULT_TRIAL_BUDGET, JitWatch.quiet());
            s.useScheduler(scheduler);
            TransformerEncoder encoder = TransformerEncoder.create(s, configs, weights);
            encoder.forward(xs, seq).close();
            long asked = scheduler.decisionsAsked();
            assertEquals(2 * 4 + 1, asked, "four linears a layer and the dropping layer's block, once each");
            // Live trials decide on the next passes' own calls, asking the scheduler nothing more.
            if (scheduler.deciding() > 0) {
                scheduler.runUntilDecided(() -> encoder.forward(xs, seq).close(), 100);
            }
            assertEquals(0, scheduler.deciding());
            assertEquals(asked, scheduler.decisionsAsked(), "a trial's passes ask the scheduler nothing");
            // The passes handed their choices to the store's background writer; written by now, or here.
            scheduler.flush();
            assertFalse(store.hasUnwrittenChoices());
            int writes = store.writes();
            assertTrue(writes >= 1, "the choices are written after the passes that made them");
            float[] first = encoder.forward(xs, seq).toFloatArray();
            long choosing = scheduler.choosingNanos();
            assertTrue(choosing > 0);
            for (int i = 0; i < 3; i++) {
                float[] again = encoder.forward(xs, seq).toFloatArray();
                assertTrue(Arrays.equals(first, again), "a planned pass computes what the first did");
            }
            assertEquals(asked, scheduler.decisionsAsked(), "planned passes ask the scheduler nothing");
            assertEquals(writes, store.writes(), "and write nothing");
            // A batch of another size in the same buckets is planned too; a larger one is a new bucket.
            try (Sequences other = Sequences.of(s, new int[] {8, 31, 3})) {
                encoder.forward(xs, other).close();
            }
            assertEquals(asked, scheduler.decisionsAsked());
            int[] longer = {40, 50, 30};
            int more = Arrays.stream(longer).sum();
            try (Sequences other = Sequences.of(s, longer);
                 Tensor ys = s.fromFloats(random(random, more * hidden, DType.F16), DType.F16, more, hidden)) {
                scheduler.runUntilDecided(() -> encoder.forward(ys, other).close(), 100);
            }
            assertTrue(scheduler.decisionsAsked() > asked, "a new bucket is planned");
            scheduler.flush();
            assertTrue(store.writes() > writes, "and its choices written");
            List<String> names = scheduler.plan().entries().stream().map(e -> e.layer()).distinct().toList();
            assertTrue(names.containsAll(List.of("encoder.0.attention.qkv", "encoder.0.attention.out",
                    "encoder.0.ffn.up", "encoder.0.ffn.down", "encoder.1", "encoder.1.ffn.down")), names::toString);
        }
    }

    /**
     * A model's repeated blocks share their decisions: four identical layers make four decisions (one per linear
     * signature), not sixteen, each made by one live trial over the layers' calls. A new scheduler over the store they wrote (a warm
     * store) decides every layer from the store: no measurement (no timer is even made), nothing written.
     */
    @Test
    void repeatedLayersShareADecisionAndAWarmStoreMeasuresNothing() {
        int hidden = 64;
        TransformerEncoderLayer.Config config = TransformerEncoderLayer.Config.of(hidden, 2, 96, DType.F16);
        List<TransformerEncoderLayer.Config> configs = List.of(config, config, config, config);
        List<TransformerEncoderLayer.Weights> weights = new ArrayList<>();
        for (int l = 0; l < configs.size(); l++) {
            weights.add(TransformerEncoderLayer.Weights.random(config, 40 + l));
        }
        int[] lengths = {7, 12};
        int tokens = Arrays.stream(lengths).sum();
        Path file = folder.resolve("shared-store.json");
        int[] timersMade = new int[1];
        try (Session s = Lacuna.open("cpu", 0); Sequences seq = Sequences.of(s, lengths);
             Tensor xs = s.fromFloats(random(new SplittableRandom(41), tokens * hidden, DType.F16), DType.F16, tokens,
                     hidden)) {
            Supplier<DeviceTimer> counting = () -> {
                timersMade[0]++;
                return s.backend().newTimer();
            };
            DeviceKey device = DeviceKey.of(s.backendName(), s.device());
            // fastest-measured: every decision with more than one candidate measures, once per signature.
            Scheduler cold = new Scheduler(device, table(), TuningStore.open(file), Policy.fastestMeasured(),
                    counting);
            s.useScheduler(cold);
            TransformerEncoder encoder = TransformerEncoder.create(s, configs, weights);
            cold.runUntilDecided(() -> encoder.forward(xs, seq).close(), 100);
            float[] first = encoder.forward(xs, seq).toFloatArray();
            assertEquals(16, cold.decisionsAsked(), "four linears in each of four layers");
            assertEquals(4, cold.decisionsMade(), "one decision per linear signature, shared by the four layers");
            assertTrue(timersMade[0] > 0, "the live calls were timed");
            assertEquals(16, cold.plan().entries().size());
            assertTrue(cold.plan().entries().stream().allMatch(e -> e.decision().source() == Decision.Source.MEASURED),
                    () -> cold.plan().explain());

            // A choice stored provisional (at these small shapes the dense paths can measure within 5% of each
            // other) is re-checked once by the next process, which stores it confirmed; without one it reads all.
            // No trial budget here: a re-check the budget cuts before both candidates have a sample stays
            // provisional (a wall-clock matter at these sizes), and this test is about what a warm store reads. The JIT
            // counts as quiet: a re-check waits for that (WarmRetryTest), which in this JVM is a wall-clock matter too.
            boolean provisional = TuningStore.open(file).choices(device).values().stream()
                    .anyMatch(TuningStore.StoredChoice::provisionalChoice);
            Scheduler next = new Scheduler(device, table(), TuningStore.open(file), Policy.auto(), counting,
                    Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS, Double.POSITIVE_INFINITY,
                    JitWatch.quiet());
            s.useScheduler(next);
            next.runUntilDecided(() -> encoder.forward(xs, seq).close(), 100);
            next.flush();
            float[] decided = encoder.forward(xs, seq).toFloatArray();
            if (!provisional) {
                assertTrue(Arrays.equals(first, decided), "the stored choices compute what the measured ones did");
            }

            timersMade[0] = 0;
            TuningStore warmStore = TuningStore.open(file);
            assertTrue(warmStore.choices(device).values().stream().noneMatch(TuningStore.StoredChoice::provisionalChoice),
                    "re-checked choices are stored confirmed");
            Scheduler warm = new Scheduler(device, table(), warmStore, Policy.auto(), counting);
            s.useScheduler(warm);
            float[] again = encoder.forward(xs, seq).toFloatArray();
            assertTrue(Arrays.equals(decided, again), "the stored choices compute what the decided ones did");
            assertEquals(0, timersMade[0], "a warm store measures nothing");
            assertEquals(0, warmStore.writes(), "and writes nothing");
            assertTrue(warm.plan().entries().stream().allMatch(e -> e.decision().source() == Decision.Source.STORED),
                    () -> warm.plan().explain());
        }
    }

    /**
     * An encoder block measures its two forms by running its linear layers, which charge their own choosing;
     * it counts those once by what its own call collected, so the charges other threads make meanwhile stay counted:
     * with two threads forwarding at once, and another thread charging a large amount in the middle of a measurement,
     * the scheduler's choosing time never falls, never goes negative, and keeps that charge whole.
     */
    @Test
    void choosingTimeKeepsOtherThreadsChargesMadeDuringAMeasurement() throws Exception {
        int hidden = 64;
        // Keeping every token, the block may run in place or through its dropping path: it measures both.
        TransformerEncoderLayer.Config dropping = TransformerEncoderLayer.Config.of(hidden, 2, 96, DType.F16)
                .withTokenDropping(TokenDropping.keep(1.0, ScoreRule.L2_NORM));
        long foreign = 5_000_000_000L;
        AtomicBoolean charged = new AtomicBoolean();
        AtomicReference<Scheduler> holder = new AtomicReference<>();
        List<int[]> batches = List.of(new int[] {9, 30, 3}, new int[] {40, 50, 30}, new int[] {5, 6});
        try (Session s = Lacuna.open("cpu", 0)) {
            // The first measurement's timer is made while a block decides: another thread charges then.
            Supplier<DeviceTimer> timers = () -> {
                if (charged.compareAndSet(false, true)) {
                    Thread other = Thread.ofPlatform().start(() -> holder.get().charge(foreign));
                    try {
                        other.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return s.backend().newTimer();
            };
            Scheduler scheduler = new Scheduler(DeviceKey.of(s.backendName(), s.device()), table(),
                    TuningStore.inMemory(), Policy.fastestMeasured(), timers, Scheduler.DEFAULT_MARGIN, 5);
            holder.set(scheduler);
            s.useScheduler(scheduler);
            List<TransformerEncoder> encoders = new ArrayList<>();
            for (int seed = 1; seed <= 2; seed++) {
                encoders.add(TransformerEncoder.create(s, List.of(dropping),
                        List.of(TransformerEncoderLayer.Weights.random(dropping, seed))));
            }
            List<Thread> threads = new ArrayList<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (TransformerEncoder encoder : encoders) {
                threads.add(Thread.ofPlatform().start(() -> {
                    SplittableRandom random = new SplittableRandom(encoders.indexOf(encoder));
                    try {
                        for (int[] lengths : batches) {
                            int tokens = Arrays.stream(lengths).sum();
                            try (Sequences seq = Sequences.of(s, lengths);
                                 Tensor xs = s.fromFloats(random(random, tokens * hidden, DType.F16), DType.F16,
                                         tokens, hidden)) {
                                encoder.forward(xs, seq).close();
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            long last = 0;
            List<String> falls = new ArrayList<>();
            while (threads.stream().anyMatch(Thread::isAlive)) {
                long now = scheduler.choosingNanos();
                if (now < last || now < 0) {
                    falls.add(last + " -> " + now);
                }
                last = now;
                Thread.sleep(1);
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a forward failed", failure.get());
            }
            assertTrue(charged.get(), "a block measured its forms");
            assertTrue(scheduler.plan().entries().stream().anyMatch(e -> e.layer().equals("encoder.0")
                    && e.decision().source() == Decision.Source.MEASURED), "the blocks' forms were measured");
            assertTrue(falls.isEmpty(), () -> "the choosing time fell: " + falls);
            long total = scheduler.choosingNanos();
            assertTrue(total > foreign, "the other thread's " + foreign + " ns stay counted: " + total);
            assertTrue(total >= last, total + " after " + last);
        }
    }
}
