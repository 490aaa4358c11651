package org.lacuna.runtime.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.internal.AtomicFiles;

/**
 * Per-layer times of a run: each layer's call timed with the backend's timer (CUDA events on a GPU, which wait for
 * the layer to finish, so profiling serialises the stream; the wall clock on the CPU), written as a Chrome trace
 * (the JSON trace event format, viewable in chrome://tracing or Perfetto). Off unless {@link #start()}ed: a layer
 * then pays one volatile read per call.
 */
public final class Profiler {
    /** One timed layer call. */
    public record Event(String layer, String candidate, String kind, long startMicros, double durationMicros) {
    }

    private final Supplier<DeviceTimer> timers;
    private final List<Event> events = new ArrayList<>();
    private volatile boolean recording;
    private long origin;

    public Profiler(Supplier<DeviceTimer> timers) {
        this.timers = timers;
    }

    /** Starts recording (dropping earlier events). */
    public synchronized void start() {
        events.clear();
        origin = System.nanoTime();
        recording = true;
    }

    public synchronized List<Event> stop() {
        recording = false;
        return List.copyOf(events);
    }

    public boolean recording() {
        return recording;
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** Runs {@code body}, timed as {@code layer} running {@code candidate} when recording. */
    public void time(String layer, String candidate, String kind, Runnable body) {
        if (!recording) {
            body.run();
            return;
        }
        long start = System.nanoTime();
        double millis;
        try (DeviceTimer timer = timers.get()) {
            timer.start();
            body.run();
            millis = timer.stopMillis();
        }
        synchronized (this) {
            events.add(new Event(layer, candidate, kind, (start - origin) / 1000, millis * 1000));
        }
    }

    /** The events as a Chrome trace document. */
    public synchronized Map<String, Object> chromeTrace() {
        List<Map<String, Object>> trace = new ArrayList<>();
        for (Event e : events) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", e.layer());
            t.put("cat", e.kind());
            t.put("ph", "X");
            t.put("ts", e.startMicros());
            t.put("dur", e.durationMicros());
            t.put("pid", 1);
            t.put("tid", 1);
            t.put("args", Map.of("candidate", e.candidate()));
            trace.add(t);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("traceEvents", trace);
        doc.put("displayTimeUnit", "ms");
        return doc;
    }

    /** Writes {@link #chromeTrace()} to {@code file}, atomically. */
    public void writeChromeTrace(Path file) throws IOException {
        Map<String, Object> doc = chromeTrace();
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        AtomicFiles.replace(file.toAbsolutePath(), t -> new ObjectMapper().writeValue(t.toFile(), doc));
    }
}
