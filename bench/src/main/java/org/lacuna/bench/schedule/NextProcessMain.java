package org.lacuna.bench.schedule;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.bench.Json;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.EfficiencyTable;
import org.lacuna.runtime.schedule.Plan;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.schedule.TuningStore;

/**
 * The scheduler benchmark's next process, truly one: a JVM of its own, started by {@link ScheduleBenchMain} on the
 * tuning store its cold {@code auto} run wrote, as a user's next run would open it. It builds the same model on the
 * same input, runs what the parent ran before its cold phase (one {@code predicted-only} forward and, for the
 * encoder, the twin network under every policy the parent compares, on in-memory stores: the same JIT warm-up,
 * none of the measured network's weight forms made), then {@code auto} on the store until decided, and prints what choosing cost it: the
 * host time, the re-check calls' extra time, the forwards, the signatures re-checked and the decisions read. The
 * parent runs it twice: the second process re-checks the provisional choices, the third reads them confirmed.
 *
 * <pre>NextProcessMain --store FILE --table FILE (--encoder BxS | --scan PATH --voxel METRES)</pre>
 */
public final class NextProcessMain {
    /** The line the result is printed on, after this prefix, as JSON. */
    static final String RESULT = "NEXT-PROCESS ";

    private NextProcessMain() {
    }

    /** What one next process's choosing cost. */
    record Result(int forwards, double hostMillis, double hostCpuMillis, double trialExtraMillis, int rechecked,
                  int confirmedByPrediction, int storedDecisions, int choosingDecisions, int decisions,
                  double firstForwardMillis) {
    }

    public static void main(String[] args) throws IOException {
        Path store = null;
        Path tableFile = null;
        int[] shape = null;
        Path scan = null;
        double voxel = 0.05;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--store" -> store = Path.of(args[++i]);
                case "--table" -> tableFile = Path.of(args[++i]);
                case "--encoder" -> shape = ScheduleBenchMain.parseShapes(args[++i])[0];
                case "--scan" -> scan = Path.of(args[++i]);
                case "--voxel" -> voxel = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (store == null || tableFile == null || (shape == null) == (scan == null)) {
            throw new IllegalArgumentException("usage: --store FILE --table FILE (--encoder BxS | --scan PATH)");
        }
        try (Session session = Lacuna.open()) {
            DeviceKey device = DeviceKey.of(session.backendName(), session.device());
            EfficiencyTable table = TuningStore.open(tableFile).efficiency(device).orElseThrow(
                    () -> new IllegalStateException("no efficiency table for " + device + " in the table file"));
            Path storeFile = store;
            Result result;
            if (shape != null) {
                try (ScheduleBenchMain.EncoderModels m = ScheduleBenchMain.EncoderModels.open(session, shape[0],
                        shape[1])) {
                    result = run(session, device, table, storeFile, m.model(), m.twin());
                }
            } else {
                try (ScheduleBenchMain.MinkUNetModel m = ScheduleBenchMain.MinkUNetModel.open(session, scan, voxel)) {
                    result = run(session, device, table, storeFile, m.model(), null);
                }
            }
            System.out.println(RESULT + Json.MAPPER.copy().disable(
                    com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(result));
        }
    }

    private static Result run(Session session, DeviceKey device, EfficiencyTable table, Path storeFile,
                              ScheduleBenchMain.Model model, ScheduleBenchMain.Model twin) {
        // What the parent ran before its cold phase: the probe's predicted-only forward, then the twin under every
        // policy the parent compares (so every candidate's kernels are compiled here as they were there: a re-check's
        // runner-up then pays its weight's conversion, not its kernel's first interpreted calls; with the twin under
        // auto alone, 1 x 32 tokens' re-check calls took 134 ms in an ad hoc run at 20:44).
        Scheduler probe = new Scheduler(device, table, TuningStore.inMemory(), Policy.predictedOnly(),
                session.backend()::newTimer);
        session.useScheduler(probe);
        model.run();
        if (twin != null) {
            ScheduleBenchMain.warmUpJit(session, device, table, ScheduleBenchMain.policies(probe.plan()), twin);
        }
        ScheduleBenchMain.awaitJitQuiet(); // as the parent before each cold phase
        Scheduler auto = new Scheduler(device, table, TuningStore.open(storeFile), Policy.auto(),
                session.backend()::newTimer);
        session.useScheduler(auto);
        ScheduleBenchMain.ColdPhase phase = ScheduleBenchMain.coldPhase(auto, model);
        Plan plan = auto.plan();
        int rechecked = (int) plan.entries().stream().filter(e -> e.decision().reason()
                .contains(Scheduler.CONFIRMED_BY_RECHECK)).map(e -> e.decision().signature()).distinct().count();
        int confirmedByPrediction = (int) plan.entries().stream().filter(e -> e.decision().reason()
                .contains(Scheduler.CONFIRMED_BY_PREDICTION)).map(e -> e.decision().signature()).distinct().count();
        int stored = (int) plan.entries().stream().filter(e -> e.decision().source() == Decision.Source.STORED)
                .count();
        int choosing = (int) plan.entries().stream().filter(e -> e.decision().source()
                != Decision.Source.ONLY_CANDIDATE && e.decision().source() != Decision.Source.FORCED).count();
        return new Result(phase.forwards(), phase.hostMillis(), phase.hostCpuMillis(), phase.trialExtraMillis(),
                rechecked, confirmedByPrediction, stored, choosing, plan.entries().size(), phase.firstMillis());
    }

    /** A next process runs at most this long: a hung one is killed and the bench says so. */
    static final long TIMEOUT_MINUTES = 10;

    /**
     * Runs a next process (this JVM's java, flags and class path) with {@code arguments} and returns its result;
     * its other output goes to this process's. Its output is read on a thread of its own, so a child that hangs with
     * its output open still meets the timeout.
     */
    static Result launch(List<String> arguments) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // A debugger's or a recording's options name a port or a file the parent holds already.
            if (!option.startsWith("-agentlib:") && !option.startsWith("-agentpath:")
                    && !option.startsWith("-XX:StartFlightRecording")) {
                command.add(option);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(NextProcessMain.class.getName());
        command.addAll(arguments);
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String[] result = new String[1];
        Thread reader = Thread.ofPlatform().daemon().name("next-process-output").start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith(RESULT)) {
                        result[0] = line.substring(RESULT.length());
                    } else {
                        System.out.println("    | " + line);
                    }
                }
            } catch (IOException e) {
                System.out.println("    | (its output could not be read: " + e + ")");
            }
        });
        try {
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException("the next process did not end within " + TIMEOUT_MINUTES + " minutes: "
                        + command);
            }
            reader.join(TimeUnit.SECONDS.toMillis(30)); // the rest of its output, now that it has ended
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the next process", e);
        }
        if (process.exitValue() != 0 || result[0] == null) {
            throw new IOException("the next process failed (exit " + process.exitValue() + "): " + command);
        }
        return Json.MAPPER.readValue(result[0], Result.class);
    }

    /** The arguments of a next process on {@code store}; {@code workload} names the model and its input. */
    static List<String> arguments(Path store, Path table, List<String> workload) {
        List<String> args = new ArrayList<>(List.of("--store", store.toString(), "--table", table.toString()));
        args.addAll(workload);
        return args;
    }
}
