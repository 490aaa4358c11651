package org.lacuna.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lacuna.api.Scheduling;
import org.lacuna.api.Session;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.pointcloud.Segmenter;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.api.text.SentenceModel;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.schedule.Plan;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Runs a model on an input until its plan is made (once, or a few times where layers decide on their live calls) and
 * prints the scheduler's plan: per layer the statistics, each candidate with its predicted and measured time, the
 * choice and why. A scan runs MinkUNet, texts run a sentence encoder.
 */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Plan a model on an input and explain, per layer, which kernel serves and why.",
                "Give --scan PATH (KITTI .bin, PCD, PLY or NPY point cloud: MinkUNet) or texts (a sentence encoder: "
                        + "all-MiniLM-L6-v2 unless --model).",
                "Exit codes: 0 planned; 1 usage error (neither or both inputs, a bad --voxel-size, --classes, "
                        + "--channel-ratio or --policy); 2 bad "
                        + "input (a missing or malformed scan, model or weights); 3 any other failure."})
final class PlanCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts for the sentence encoder.")
    List<String> texts = new ArrayList<>();

    @Option(names = "--scan", paramLabel = "PATH", description = "A point cloud to run MinkUNet on.")
    Path scan;

    @CommandLine.Mixin
    MinkUNetOptions network = new MinkUNetOptions();

    @CommandLine.Mixin
    EncoderModelOption model = new EncoderModelOption();

    @Option(names = "--policy", paramLabel = "POLICY", description = "auto, fastest-measured, predicted-only, "
            + "optionally with kind=candidate (linear, sparse-conv, attention), comma-separated. Default: "
            + "lacuna.schedule, else auto.")
    String policy;

    @Option(names = "--json", description = "Print the plan as JSON.")
    boolean json;

    @Option(names = "--trace", paramLabel = "PATH", description = "Run once more with per-layer profiling and write "
            + "a Chrome trace (chrome://tracing, Perfetto) here.")
    Path trace;

    @CommandLine.Mixin
    BackendOption backend = new BackendOption();

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if ((scan == null) == texts.isEmpty()) {
            err.println("lacuna plan: give either --scan PATH or texts, not both and not neither");
            return ExitCodes.USAGE;
        }
        if (scan != null) {
            network.validate(spec); // before the scan is read: a usage error first
        }
        if (scan == null && model.unavailableReason() != null) {
            err.println("lacuna plan: " + model.unavailableReason());
            return ExitCodes.BAD_INPUT;
        }
        Policy chosenPolicy;
        try {
            chosenPolicy = policy == null ? Scheduling.configuredPolicy() : Policy.parse(policy);
        } catch (LacunaException e) {
            err.println("lacuna plan: --policy: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        try (Session session = backend.open()) {
            long start = System.nanoTime();
            session.schedule(chosenPolicy);
            long schedulerReady = System.nanoTime();
            Runnable run = scan != null ? minkUNet(session) : encoder(session);
            Scheduler scheduler = session.scheduler();
            long planStart = System.nanoTime();
            // Layers that decide on their live calls need a few forwards: run until every trial has decided.
            int runs = scheduler.runUntilDecided(run, Scheduler.MAX_DECIDING_FORWARDS);
            long planned = System.nanoTime();
            long firstChoosing = scheduler.choosingNanos();
            // The planned run (profiled when a trace is asked for: its per-layer timers then wait for each layer).
            if (trace != null) {
                session.profiler().start();
            }
            run.run();
            long warm = System.nanoTime();
            long plannedChoosing = scheduler.choosingNanos() - firstChoosing;
            Plan plan = scheduler.plan();
            out.print(json ? plan.toJson() + "\n" : plan.explain());
            out.flush();
            err.printf(Locale.ROOT, "plan: scheduler ready in %.1f ms (efficiency table %s); planning %d run(s) "
                            + "%.1f ms (%.2f ms of it choosing on the host, %.2f ms of live calls served by slower "
                            + "candidates), planned run %.1f ms (%.1f us of it choosing)%n",
                    (schedulerReady - start) / 1e6, scheduler.efficiency().source(), runs, (planned - planStart) / 1e6,
                    firstChoosing / 1e6, scheduler.trialExtraNanos() / 1e6, (warm - planned) / 1e6,
                    plannedChoosing / 1e3);
            session.scheduler().store().warnings().forEach(w -> err.println("plan: warning: " + w));
            if (trace != null) {
                int events = session.profiler().stop().size();
                session.profiler().writeChromeTrace(trace);
                err.printf("plan: %d layer calls profiled into %s%n", events, trace);
            }
            return 0;
        } catch (LacunaException e) {
            if (ExitCodes.of(e) == ExitCodes.BAD_INPUT) {
                err.println("lacuna plan: " + e.getMessage());
                return ExitCodes.BAD_INPUT;
            }
            throw e;
        }
    }

    /**
     * The MinkUNet {@code lacuna segment} runs with the same options, on the scan: one segmentation (voxelising,
     * the network, labels back on the points) per run, so the plan is that of what {@code segment} runs.
     */
    private Runnable minkUNet(Session session) {
        PointCloud cloud = PointClouds.read(scan);
        Segmenter segmenter = session.own(Segmenter.open(session,
                network.segmenterOptions(cloud.channelCount()).withLayerTimes(false)));
        return () -> segmenter.segment(cloud);
    }

    /** The sentence encoder on the texts. */
    private Runnable encoder(Session session) throws IOException {
        SentenceEmbedder embedder = session.own(model.bundled() ? SentenceEmbedder.bundled(session, 0)
                : SentenceModel.open(model.path, null, 0).handOver(session, EncoderSparsity.DENSE));
        return () -> embedder.embed(texts, 32);
    }
}
