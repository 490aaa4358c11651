package org.lacuna.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lacuna.api.Session;
import org.lacuna.api.io.NpyWriter;
import org.lacuna.api.io.PlyWriter;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.models.LayerTime;
import org.lacuna.runtime.schedule.Profiler;
import org.lacuna.api.pointcloud.LabelColours;
import org.lacuna.api.pointcloud.Segmentation;
import org.lacuna.api.pointcloud.Segmenter;
import org.lacuna.api.pointcloud.SegmenterOptions;
import org.lacuna.runtime.pointcloud.PointCloud;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Semantic segmentation of one scan with MinkUNet: read, voxelise, run the network, write per-point labels, a PLY
 * coloured by label and a JSON record; a summary (what ran where, per-layer times, the class histogram) on standard
 * output, progress on standard error.
 */
@Command(name = "segment", mixinStandardHelpOptions = true,
        description = {"Segment a point cloud (KITTI .bin, .pcd, .ply, .npy, .npz) with MinkUNet.",
                "Writes into --output-dir: <scan>.labels.npy (int32, one label per point; or .txt), "
                        + "<scan>.labels.ply (points coloured by label) and <scan>.segmentation.json (histogram, "
                        + "per-layer times, plan, where it ran).",
                "Without --weights the network has seeded random weights: every kernel runs as with trained ones, "
                        + "but the labels mean nothing."},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
                "0:ok", "1:usage error", "2:bad input (scan or weights missing, empty, malformed or not fitting)",
                "3:runtime failure (no usable backend, device error, out of memory)"})
final class SegmentCommand implements Callable<Integer> {
    enum LabelFormat { npy, txt }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SCAN", description = "The point cloud: " + PointClouds.KNOWN_FORMATS + ".")
    Path scan;

    @CommandLine.Mixin
    MinkUNetOptions network = new MinkUNetOptions();

    @CommandLine.Mixin
    BackendOption backend = new BackendOption();

    @Option(names = {"-o", "--output-dir"}, paramLabel = "DIR", defaultValue = "segment-output",
            description = "Where the outputs go (created if absent). Default ${DEFAULT-VALUE}.")
    Path outputDir;

    @Option(names = "--labels", defaultValue = "npy", description = "Label file format: npy (int32 [points]) or txt "
            + "(one label a line). Default ${DEFAULT-VALUE}.")
    LabelFormat labelFormat;

    @Option(names = "--no-ply", description = "Do not write the coloured PLY.")
    boolean noPly;

    @Option(names = {"-q", "--quiet"}, description = "No progress lines on standard error.")
    boolean quiet;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        network.validate(spec);
        Progress progress = new Progress(quiet ? null : err);
        progress.say("reading " + scan);
        PointCloud cloud = PointClouds.read(scan);
        progress.done(String.format(Locale.ROOT, "%,d points, channels %s", cloud.size(), cloud.channelNames()));

        SegmenterOptions options = network.segmenterOptions(cloud.channelCount());
        progress.say("opening the " + backend + " backend");
        try (Session session = backend.open()) {
            progress.done(session.backendName() + " on " + session.device().name());
            progress.say(network.weights == null ? "building MinkUNet with seeded random weights (seed "
                    + network.seed + ")" : "loading MinkUNet weights from " + network.weights);
            try (Segmenter segmenter = Segmenter.open(session, options)) {
                progress.done(segmenter.network().inChannels() + " inputs, " + segmenter.network().numClasses()
                        + " classes");
                if (!segmenter.unusedWeights().isEmpty()) {
                    err.println("segment: warning: " + segmenter.unusedWeights().size() + " tensor(s) of "
                            + network.weights + " were not used (a naming mismatch?): " + abbreviate(segmenter.unusedWeights()));
                }
                progress.say(String.format(Locale.ROOT, "voxelising at %s m and running MinkUNet", network.voxelSize));
                // Every layer's call timed (wall clock on the CPU, the device's timer elsewhere) under its name. This
                // first pass also plans every layer; its per-call timing synchronises and times each call, so the
                // times reported come from a second pass without the profiler (the same labels).
                session.profiler().start();
                Segmentation profiled;
                try {
                    profiled = segmenter.segment(cloud);
                } finally {
                    session.profiler().stop();
                }
                List<Profiler.Event> layers = session.profiler().events();
                Segmentation result = segmenter.segment(cloud);
                progress.done(String.format(Locale.ROOT, "%,d voxels, %d steps, %d layer calls", result.voxels(),
                        result.layers().size(), layers.size()));
                progress.say("writing to " + outputDir);
                List<Path> written = write(cloud, result, profiled, layers, segmenter, session);
                progress.done(written.size() + " files");
                summarise(out, cloud, result, profiled, layers, session, written, progress.readMillis);
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** @param result the timed (unprofiled) pass; {@code profiled} the first pass, whose layer calls are {@code layers} */
    private List<Path> write(PointCloud cloud, Segmentation result, Segmentation profiled, List<Profiler.Event> layers,
                             Segmenter segmenter, Session session) throws IOException {
        Files.createDirectories(outputDir);
        String stem = stem(scan);
        List<Path> written = new ArrayList<>();
        Path labels = outputDir.resolve(stem + ".labels." + labelFormat);
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(labels), 1 << 16)) {
            if (labelFormat == LabelFormat.npy) {
                NpyWriter.writeInt32(o, result.labels());
            } else {
                StringBuilder text = new StringBuilder(result.points() * 3);
                for (int label : result.labels()) {
                    text.append(label).append('\n');
                }
                o.write(text.toString().getBytes(StandardCharsets.US_ASCII));
            }
        }
        written.add(labels);
        if (!noPly) {
            Path ply = outputDir.resolve(stem + ".labels.ply");
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(ply), 1 << 16)) {
                PlyWriter.writeLabelled(o, cloud, result.labels(), LabelColours.forClasses(result.classes()));
            }
            written.add(ply);
        }
        Path json = outputDir.resolve(stem + ".segmentation.json");
        Files.writeString(json, record(result, profiled, layers, segmenter, session));
        written.add(json);
        return written;
    }

    private String record(Segmentation result, Segmentation profiledPass, List<Profiler.Event> profiled,
                          Segmenter segmenter, Session session) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("scan", scan.toString());
        root.put("points", result.points());
        root.put("labelledPoints", result.labelledPoints());
        root.put("voxelSize", network.voxelSize);
        root.put("voxels", result.voxels());
        root.put("weights", result.weights());
        root.put("randomWeights", network.weights == null);
        root.put("backend", result.backend());
        root.put("backendReason", session.backendReason());
        root.put("device", result.device());
        root.put("inChannels", segmenter.network().inChannels());
        ObjectNode histogram = root.putObject("classHistogram");
        long[] counts = result.classCounts();
        for (int c = 0; c < counts.length; c++) {
            histogram.put(LabelColours.name(c, counts.length), counts[c]);
        }
        ObjectNode times = root.putObject("millis");
        times.put("voxelize", result.voxelizeMillis());
        times.put("network", result.networkMillis());
        times.put("labels", result.labelMillis());
        // The first pass: it planned every layer and timed each call (layerCalls), which the times above leave out.
        times.put("profiledNetwork", profiledPass.networkMillis());
        ArrayNode layers = root.putArray("layers");
        for (LayerTime layer : result.layers()) {
            ObjectNode l = layers.addObject();
            l.put("name", layer.name());
            l.put("millis", layer.millis());
            l.put("voxels", layer.outputVoxels());
            l.put("channels", layer.outputChannels());
            l.put("stride", layer.tensorStride()[0]);
            ArrayNode plan = l.putArray("plan");
            layer.plan().forEach(plan::add);
        }
        ArrayNode calls = root.putArray("layerCalls");
        for (Profiler.Event e : profiled) {
            ObjectNode c = calls.addObject();
            c.put("layer", e.layer());
            c.put("kind", e.kind());
            c.put("candidate", e.candidate());
            c.put("millis", e.durationMicros() / 1e3);
        }
        try {
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void summarise(PrintWriter out, PointCloud cloud, Segmentation result, Segmentation profiled,
                           List<Profiler.Event> layers, Session session, List<Path> written, double readMillis) {
        out.printf(Locale.ROOT, "segment: %s: %,d points -> %,d voxels at %s m%n", scan.getFileName(), cloud.size(),
                result.voxels(), network.voxelSize);
        if (network.weights == null) {
            out.printf(Locale.ROOT, "weights: RANDOM (seed %d): the labels below mean nothing; pass --weights FILE "
                    + "for a trained network%n", network.seed);
        } else {
            out.println("weights: " + network.weights);
        }
        out.printf(Locale.ROOT, "ran on: %s (%s) -- %s%n", session.backendName(), session.device().name(),
                session.backendReason());
        out.printf(Locale.ROOT, "        voxeliser and MinkUNet's %d steps (%s: %d layer calls) on %s; arg-max and "
                        + "per-point labels on the host%n", result.layers().size(),
                String.join(", ", result.layers().stream().map(LayerTime::name).toList()), layers.size(),
                session.backendName());
        out.printf(Locale.ROOT, "time: read %.0f ms, voxelise %.0f ms, network %.0f ms, labels %.0f ms (a planned pass "
                        + "without per-layer timing; the first, planning and per-layer timed pass: network %.0f ms)%n",
                readMillis, result.voxelizeMillis(), result.networkMillis(), result.labelMillis(),
                profiled.networkMillis());
        out.println("per step (the planned pass; wall clock, device synchronised after each step; plan = each "
                + "convolution's dataflow):");
        for (LayerTime layer : result.layers()) {
            out.println("  " + layer.describe());
        }
        out.println("per layer (the first pass, each call timed; the candidate the scheduler chose):");
        for (Profiler.Event e : layers) {
            out.printf(Locale.ROOT, "  %-18s %-11s %-20s %9.2f ms%n", e.layer(), e.kind(), e.candidate(),
                    e.durationMicros() / 1e3);
        }
        out.println("class histogram (points):");
        long[] counts = result.classCounts();
        for (int c = 0; c < counts.length; c++) {
            if (counts[c] > 0) {
                out.printf(Locale.ROOT, "  %2d %-14s %,9d  %5.1f%%%n", c, LabelColours.name(c, counts.length),
                        counts[c], 100.0 * counts[c] / result.points());
            }
        }
        if (result.labelledPoints() < result.points()) {
            out.printf(Locale.ROOT, "  -1 %-14s %,9d  (non-finite coordinates)%n", "unlabelled",
                    result.points() - result.labelledPoints());
        }
        out.println("wrote: " + String.join(", ", written.stream().map(Path::toString).toList()));
    }

    private static String stem(Path scan) {
        String name = scan.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static String abbreviate(List<String> keys) {
        return keys.size() <= 5 ? keys.toString() : keys.subList(0, 5) + " and " + (keys.size() - 5) + " more";
    }

    /** One line per phase on standard error: what starts, then how long it took. */
    private static final class Progress {
        private final PrintWriter err;
        private long started;
        private int phase;
        double readMillis;

        Progress(PrintWriter err) {
            this.err = err;
        }

        void say(String what) {
            started = System.nanoTime();
            phase++;
            if (err != null) {
                err.print("segment: [" + phase + "/5] " + what + " ... ");
                err.flush();
            }
        }

        void done(String result) {
            double millis = (System.nanoTime() - started) / 1e6;
            if (phase == 1) {
                readMillis = millis;
            }
            if (err != null) {
                err.printf(Locale.ROOT, "%s (%.2f s)%n", result, millis / 1e3);
                err.flush();
            }
        }
    }
}
