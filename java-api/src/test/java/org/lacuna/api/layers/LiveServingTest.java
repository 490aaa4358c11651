package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.JitWatch;
import org.lacuna.runtime.schedule.LinearCandidates;
import org.lacuna.runtime.schedule.LinearStatistics;
import org.lacuna.runtime.schedule.LiveTrial;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.schedule.TuningStore;

/**
 * A linear layer's live calls ({@link LiveServing}) on the CPU backend with a hand-written table: a candidate that
 * throws is never chosen and never makes a call hang, every candidate failing makes the call throw, and a layer closed
 * while it sampled a trial hands the samples to the next layer of its signature.
 */
class LiveServingTest {
    private static final int TOKENS = 21;
    private static final int IN = 48;
    private static final int OUT = 40;
    /** No call may spin: a generous bound for a few small forwards on a busy machine. */
    private static final Duration NO_HANG = Duration.ofSeconds(60);

    private static Scheduler scheduler(Session s, Policy policy, TuningStore store) {
        return ScheduledLayersTest.scheduler(s, policy, store);
    }

    private static float[] random(SplittableRandom random, int n, DType dtype) {
        return ScheduledLayersTest.random(random, n, dtype);
    }

    private static double[] reference(float[] x, float[] w, float[] b) {
        return ScheduledLayersTest.reference(x, w, b, TOKENS, OUT, IN, Activation.NONE);
    }

    /** A CPU session holding the layer over {@code data}, its F16 input and an F32 output; closing it closes all. */
    private record LayerOnCpu(Session session, Tensor xs, Linear layer, Tensor bound) implements AutoCloseable {
        static LayerOnCpu open(Data data) {
            Session s = Lacuna.open("cpu", 0);
            try {
                Tensor xs = s.fromFloats(data.x(), DType.F16, TOKENS, IN);
                Linear layer = Linear.create(s, data.w(), OUT, IN, data.b(),
                        Linear.Options.of(DType.F16).withOutputType(DType.F32));
                return new LayerOnCpu(s, xs, layer, s.empty(DType.F32, TOKENS, OUT));
            } catch (RuntimeException e) {
                s.close();
                throw e;
            }
        }

        @Override
        public void close() {
            session.close();
        }
    }

    /** A layer's weights and input, and its double reference output. */
    private record Data(float[] w, float[] b, float[] x, double[] want) {
        static Data random(long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            float[] w = LiveServingTest.random(random, OUT * IN, DType.F32);
            float[] b = LiveServingTest.random(random, OUT, DType.F32);
            float[] x = LiveServingTest.random(random, TOKENS * IN, DType.F16);
            return new Data(w, b, x, reference(x, w, b));
        }
    }

    private static void assertClose(double[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-3 * (1 + Math.abs(want[i])), what + ", element " + i);
        }
    }

    /** A layer's serving of one trial, the candidates {@code failing} picks throwing on every call (counted). */
    private record Served(Scheduler scheduler, LiveTrial trial, LiveServing serving, Map<String, Integer> failures) {
    }

    private static Served serving(Session s, Linear layer, Tensor x, Tensor y, Policy policy,
                                  Predicate<String> failing) {
        Scheduler scheduler = scheduler(s, policy, TuningStore.inMemory());
        var ops = s.backend().ops();
        LinearCandidates.Forms forms = layer.forms();
        LinearStatistics st = layer.statistics(TOKENS);
        LinearCandidates.Offers offers = LinearCandidates.offers(s.backendName(), ops, st, forms, x.array("test"),
                y.array("test"));
        LiveTrial trial = scheduler.decideLive("fc", st, offers.candidates());
        assumeTrue(trial.decision() == null, "this backend offers one candidate here: nothing is decided live");
        Map<String, Integer> failures = new HashMap<>();
        Function<String, LinearCandidates.Call> callOf = name -> {
            LinearCandidates.Call real = offers.call(name);
            return (xs, ys) -> {
                if (failing.test(name)) {
                    failures.merge(name, 1, Integer::sum);
                    throw new LacunaException(ErrorCode.OUT_OF_MEMORY, "scripted", name + " throws on every call");
                }
                real.run(xs, ys);
            };
        };
        return new Served(scheduler, trial, new LiveServing(trial, callOf), failures);
    }

    /**
     * What a layer planning a bucket builds once ({@link LinearCandidates#offers}): the candidates {@code of} offers,
     * each with the call that computes the layer's function.
     */
    @Test
    void offersHoldEveryCandidateWithItsCall() {
        Data data = Data.random(11);
        try (LayerOnCpu cpu = LayerOnCpu.open(data)) {
            Session s = cpu.session();
            var ops = s.backend().ops();
            LinearCandidates.Forms forms = cpu.layer().forms();
            LinearStatistics st = cpu.layer().statistics(TOKENS);
            LinearCandidates.Offers offers = LinearCandidates.offers(s.backendName(), ops, st, forms,
                    cpu.xs().array("test"), cpu.bound().array("test"));
            List<String> names = LinearCandidates.of(s.backendName(), ops, st, forms, null, null).stream()
                    .map(org.lacuna.runtime.schedule.Candidate::name).toList();
            assertEquals(names, offers.candidates().stream().map(org.lacuna.runtime.schedule.Candidate::name)
                    .toList());
            assertEquals(names, List.copyOf(offers.calls().keySet()));
            for (String name : names) {
                float[] poison = new float[TOKENS * OUT];
                java.util.Arrays.fill(poison, Float.NaN); // the call must write every element
                try (Tensor y = s.fromFloats(poison, DType.F32, TOKENS, OUT)) {
                    offers.call(name).run(cpu.xs().array("test"), y.array("test"));
                    assertClose(data.want(), y.toFloatArray(), name);
                }
            }
            var missing = assertThrows(org.lacuna.runtime.error.NotSupportedException.class,
                    () -> offers.call("no-such-path"));
            assertEquals("LinearCandidates.call", missing.call());
        }
    }

    @Test
    void aFailingBestPredictedCandidateIsNeverChosenAndTheCallsGetTheOthersResult() {
        Data data = Data.random(3);
        try (LayerOnCpu cpu = LayerOnCpu.open(data)) {
            Session s = cpu.session();
            String[] best = new String[1];
            Served served = serving(s, cpu.layer(), cpu.xs(), cpu.bound(), Policy.auto(), name -> name.equals(best[0]));
            best[0] = served.trial().decisionOrProvisional().chosen();
            assertTimeoutPreemptively(NO_HANG, () -> {
                for (int call = 0; call < 100 && served.trial().decision() == null; call++) {
                    try (Tensor y = s.empty(DType.F32, TOKENS, OUT)) {
                        served.serving().serve(served.scheduler(), "fc", s.profiler(), cpu.xs().array("test"),
                                y.array("test"));
                        assertClose(data.want(), y.toFloatArray(), "call " + call);
                    }
                }
            });
            Decision d = served.trial().decision();
            assertNotNull(d, "the trial decides");
            assertNotEquals(best[0], d.chosen(), d.reason());
            assertEquals(1, served.failures().get(best[0]), "a failed candidate is tried once");
            assertTrue(d.reason().contains(best[0] + " throws"), d.reason());
            // Decided: a forward of the layer's own (on its real route) still computes the layer.
            try (Tensor y = s.empty(DType.F32, TOKENS, OUT)) {
                served.serving().serve(served.scheduler(), "fc", s.profiler(), cpu.xs().array("test"), y.array("test"));
                assertClose(data.want(), y.toFloatArray(), "after the decision");
            }
        }
    }

    @Test
    void everyCandidateFailingMakesTheCallThrowTheFirstFailureInsteadOfHanging() {
        SplittableRandom random = new SplittableRandom(4);
        float[] w = random(random, OUT * IN, DType.F32);
        float[] x = random(random, TOKENS * IN, DType.F16);
        try (Session s = Lacuna.open("cpu", 0); Tensor xs = s.fromFloats(x, DType.F16, TOKENS, IN);
             Linear layer = Linear.create(s, w, OUT, IN, random(random, OUT, DType.F32),
                     Linear.Options.of(DType.F16).withOutputType(DType.F32));
             Tensor y = s.empty(DType.F32, TOKENS, OUT)) {
            Served served = serving(s, layer, xs, y, Policy.fastestMeasured(), name -> true);
            List<String> names = served.trial().names();
            for (int call = 0; call < 2; call++) {
                LacunaException e = assertTimeoutPreemptively(NO_HANG, () -> assertThrows(LacunaException.class,
                        () -> served.serving().serve(served.scheduler(), "encoder.0.fc", s.profiler(),
                                xs.array("test"), y.array("test"))));
                assertEquals(ErrorCode.OUT_OF_MEMORY, e.code(), e.getMessage());
                assertTrue(e.getMessage().contains("encoder.0.fc") && e.getMessage().contains("every candidate"),
                        e.getMessage());
                assertTrue(e.getCause() instanceof LacunaException c && c.getMessage().contains("throws"),
                        String.valueOf(e.getCause()));
            }
            for (String name : names) {
                assertEquals(1, served.failures().get(name), name + " is tried once, never again");
            }
            assertEquals(0, served.scheduler().deciding(), "the trial ended without a decision");
        }
    }

    @Test
    void aSamplerClosedAfterOneCallHandsTheTrialToTheNextLayerWhichDecidesAndStores() {
        Data data = Data.random(5);
        Linear.Options options = Linear.Options.of(DType.F16).withOutputType(DType.F32);
        try (Session s = Lacuna.open("cpu", 0); Tensor xs = s.fromFloats(data.x(), DType.F16, TOKENS, IN)) {
            TuningStore store = TuningStore.inMemory();
            Scheduler scheduler = scheduler(s, Policy.fastestMeasured(), store);
            DeviceKey device = DeviceKey.of(s.backendName(), s.device());
            Linear first = Linear.create(s, data.w(), OUT, IN, data.b(), options).named("encoder.0.fc");
            try (Tensor y = first.forward(xs)) {
                assertClose(data.want(), y.toFloatArray(), "the first layer's call");
            }
            assumeTrue(scheduler.deciding() > 0, "this backend offers one candidate here: nothing is decided live");
            int candidates = first.decisions().get(32L).getFirst().candidates().size();
            first.close();
            try (Linear second = Linear.create(s, data.w(), OUT, IN, data.b(), options).named("encoder.1.fc")) {
                int[] calls = {0};
                // Sampling passes at once: each candidate's first call, then its samples (no elimination here).
                scheduler.runUntilDecided(() -> {
                    try (Tensor y = second.forward(xs)) {
                        assertClose(data.want(), y.toFloatArray(), "the second layer's call " + calls[0]);
                    }
                    calls[0]++;
                }, candidates * (1 + LiveTrial.SAMPLES));
                assertEquals(0, scheduler.deciding(), "the second layer's calls decided the signature");
                Decision d = second.decisions().get(32L).getFirst();
                assertEquals(Decision.Source.MEASURED, d.source(), d::toString);
                assertEquals(1, store.choiceCount(device), "the choice is stored");
                assertSame(d, scheduler.plan().entries().stream().filter(e -> e.layer().equals("encoder.0.fc"))
                        .findFirst().orElseThrow().decision(), "the closed layer's plan entry has the decision too");
            }
        }
    }

    /**
     * A scheduler over the test table on an in-memory store, made {@code s}'s, whose timer reports what {@code millis}
     * says, whatever a call really took; its JIT counts as quiet (scripted times: a warm re-trial is WarmRetryTest's).
     */
    private static Scheduler scripted(Session s, Policy policy, double trialBudget, DoubleSupplier millis) {
        Scheduler scheduler = new Scheduler(DeviceKey.of(s.backendName(), s.device()), ScheduledLayersTest.table(),
                TuningStore.inMemory(), policy, () -> new DeviceTimer() {
                    @Override
                    public void start() {
                    }

                    @Override
                    public double stopMillis() {
                        return millis.getAsDouble();
                    }

                    @Override
                    public void close() {
                    }
                }, Scheduler.DEFAULT_MARGIN, Scheduler.DEFAULT_BUDGET_MILLIS, trialBudget, JitWatch.quiet());
        s.useScheduler(scheduler);
        return scheduler;
    }

    @Test
    void aLayerThatServedTheHeldPredictionTakesASampleOnItsFirstTrialCall() {
        Data data = Data.random(11);
        try (LayerOnCpu cpu = LayerOnCpu.open(data)) {
            Session s = cpu.session();
            Tensor xs = cpu.xs();
            Linear layer = cpu.layer();
            Tensor bound = cpu.bound();
            // A scripted clock reporting 1000 ms a call, far above any prediction here; a budget that affords anything.
            Scheduler scheduler = scripted(s, Policy.auto(), Double.POSITIVE_INFINITY, () -> 1000);
            LinearStatistics st = layer.statistics(TOKENS);
            LinearCandidates.Offers offers = LinearCandidates.offers(s.backendName(), s.backend().ops(), st,
                    layer.forms(), xs.array("test"), bound.array("test"));
            // A model's first forward: the trial waits for its end, the prediction serving the layer's call.
            scheduler.forwardStarting();
            assumeTrue(offers.candidates().size() > 1,
                    "this backend offers one candidate here: nothing is decided live");
            LiveTrial trial = scheduler.decideLive("encoder.0.fc", st, offers.candidates());
            assertNotNull(trial.decision(), "held through the first forward");
            assertEquals(Decision.Source.DECIDING, trial.decision().source(), trial.decision().reason());
            assertEquals(trial.names(), new LiveServing(trial, offers::call).names(),
                    "while it waits, a route holds every candidate it will serve");
            LiveServing serving = new LiveServing(trial, offers::call);
            try (Tensor y = s.empty(DType.F32, TOKENS, OUT)) {
                serving.serveDecided(serving.decidedCall(), "fc", s.profiler(), xs.array("test"), y.array("test"));
                assertClose(data.want(), y.toFloatArray(), "the held prediction's call");
            }
            scheduler.flushLater();
            assertNull(trial.decision(), "the budget affords the others: the trial has started");
            assertEquals(1.0, scheduler.forwardScale(), "nothing sampled yet");
            try (Tensor y = s.empty(DType.F32, TOKENS, OUT)) {
                serving.serve(scheduler, "fc", s.profiler(), xs.array("test"), y.array("test"));
                assertClose(data.want(), y.toFloatArray(), "the trial's first call");
            }
            // The layer's first trial call is the prediction's again, which it already served: a sample, not a first
            // call (which would have left the forward's scale unmeasured).
            assertEquals(Scheduler.MAX_FORWARD_SCALE, scheduler.forwardScale(),
                    "a sample of 1000 ms against a prediction under a millisecond");
        }
    }

    @Test
    void theOtherLayersLaterCallsAreSamplesSoATrialTakesFewerForwards() {
        Data data = Data.random(9);
        try (LayerOnCpu cpu = LayerOnCpu.open(data)) {
            Session s = cpu.session();
            Tensor xs = cpu.xs();
            Linear layer = cpu.layer();
            Tensor bound = cpu.bound();
            // A scripted clock: each candidate's call reports its own time, whatever it really took.
            double[] reported = {0};
            Scheduler scheduler = scripted(s, Policy.fastestMeasured(), Scheduler.DEFAULT_TRIAL_BUDGET,
                    () -> reported[0]);
            var ops = s.backend().ops();
            LinearCandidates.Forms forms = layer.forms();
            LinearStatistics st = layer.statistics(TOKENS);
            LinearCandidates.Offers offers = LinearCandidates.offers(s.backendName(), ops, st, forms,
                    xs.array("test"), bound.array("test"));
            LiveTrial trial = scheduler.decideLive("encoder.0.fc", st, offers.candidates());
            assumeTrue(trial.decision() == null, "this backend offers one candidate here: nothing is decided live");
            List<String> names = trial.names();
            // The best-predicted candidate is the slowest: the choice must move to the fastest of the others.
            String predicted = trial.decisionOrProvisional().chosen();
            Map<String, Double> millis = new HashMap<>();
            for (int i = 0; i < names.size(); i++) {
                millis.put(names.get(i), names.get(i).equals(predicted) ? 5.0 : 1.0 + i);
            }
            String fastest = names.stream().filter(n -> !n.equals(predicted)).findFirst().orElseThrow();
            Function<String, LinearCandidates.Call> callOf = name -> {
                LinearCandidates.Call real = offers.call(name);
                return (x, y) -> {
                    reported[0] = millis.get(name);
                    real.run(x, y);
                };
            };
            // Three layers of the signature, one call each per forward, as a model's repeated blocks serve them.
            List<LiveServing> layers = List.of(new LiveServing(trial, callOf), new LiveServing(trial, callOf),
                    new LiveServing(trial, callOf));
            int forwards = 0;
            while (trial.decision() == null && forwards < 100) {
                for (LiveServing l : layers) {
                    try (Tensor y = s.empty(DType.F32, TOKENS, OUT)) {
                        l.serve(scheduler, "fc", s.profiler(), xs.array("test"), y.array("test"));
                        assertClose(data.want(), y.toFloatArray(), "forward " + forwards);
                    }
                }
                forwards++;
            }
            assertEquals(fastest, trial.decision().chosen(), trial.decision().reason());
            // The sampler alone serves one call a forward: each candidate's first call and its samples.
            int alone = names.size() * (1 + LiveTrial.SAMPLES);
            assertTrue(forwards < alone, forwards + " forwards, against " + alone + " with the sampler's calls alone");
            assertEquals(5.0, trial.decision().estimate(predicted).measuredMillis());
        }
    }
}
