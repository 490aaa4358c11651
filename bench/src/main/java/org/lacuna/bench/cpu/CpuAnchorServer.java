package org.lacuna.bench.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.lacuna.bench.Json;
import org.lacuna.bench.measure.MeasurementPlan;

/**
 * {@code cpu_anchor.py --serve} as a subprocess that stays up for the whole run: each {@link #measure} sends it one
 * case and the round's sampling plan on its stdin and waits for the timings on its stdout, so that the runner can take
 * turns with PyTorch case by case and round by round ({@link AnchoredRounds}) instead of timing all of PyTorch's
 * cases in one block minutes away from its own. Between requests the process sits blocked on its stdin and uses no
 * CPU. Lines it prints that are not replies (its progress, a torch warning) are echoed with a prefix.
 */
final class CpuAnchorServer implements AutoCloseable {
    /** What starts a reply line: {@code REPLY_MARKER} in cpu_anchor.py. */
    static final String REPLY_MARKER = "@lacuna-cpu-anchor ";
    /** Put on the reply queue when the process's output ends. */
    private static final String ENDED = "\u0000ended";

    private final Process process;
    private final Writer requests;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final long timeoutSeconds;
    private JsonNode environment;
    /** Why the process can no longer answer; null while it can. */
    private String failure;

    private CpuAnchorServer(Process process, long timeoutSeconds) {
        this.process = process;
        this.requests = process.outputWriter(StandardCharsets.UTF_8);
        this.timeoutSeconds = timeoutSeconds;
        Thread.ofPlatform().daemon().name("cpu-anchor-output").start(() -> {
            try (var reader = process.inputReader(StandardCharsets.UTF_8)) {
                reader.lines().forEach(line -> {
                    if (line.startsWith(REPLY_MARKER)) {
                        replies.add(line.substring(REPLY_MARKER.length()));
                    } else {
                        System.out.println("   | " + line);
                    }
                });
            } catch (IOException | java.io.UncheckedIOException e) {
                System.out.println("   | (output lost: " + e.getMessage() + ")");
            } finally {
                replies.add(ENDED);
            }
        });
    }

    /**
     * Starts {@code command} (a {@code cpu_anchor.py --serve} line) and waits up to {@code timeoutSeconds} for its
     * ready line; a server that did not get ready says why in {@link #failure} and answers nothing.
     */
    static CpuAnchorServer start(List<String> command, long timeoutSeconds) throws IOException {
        System.out.println("   $ " + String.join(" ", command));
        CpuAnchorServer server = new CpuAnchorServer(new ProcessBuilder(command).redirectErrorStream(true).start(),
                timeoutSeconds);
        JsonNode ready = server.next("the ready line", timeoutSeconds);
        if (ready != null && ready.path("ready").asBoolean()) {
            server.environment = ready.path("environment");
        } else if (ready != null) {
            server.fail("the first reply was not the ready line: " + ready);
        }
        return server;
    }

    /** torch's version, threads and BLAS as the ready line gave them; null when it never came. */
    JsonNode environment() {
        return environment;
    }

    /** Why the process cannot answer (it exited, timed out or said something unreadable); null while it can. */
    String failure() {
        return failure;
    }

    /**
     * Result name → timing of {@code caseId} at {@code plan}, the process timing it now; empty when it cannot
     * ({@link #failure} says why) or knows no such case.
     */
    Map<String, Timing> measure(String caseId, MeasurementPlan plan) {
        if (failure != null) {
            return Map.of();
        }
        ObjectNode request = Json.MAPPER.createObjectNode().put("case", caseId)
                .put("minWarmupLaunches", plan.minWarmupLaunches()).put("warmupMs", plan.warmupMillis())
                .put("samples", plan.samples()).put("minSamples", plan.minSamples())
                .put("maxMeasureMs", plan.maxMeasureMillis()).put("minSampleMs", plan.minSampleMillis());
        try {
            requests.write(request.toString() + "\n"); // compact: one request a line
            requests.flush();
        } catch (IOException e) {
            fail("cannot send a request: " + e.getMessage());
            return Map.of();
        }
        JsonNode reply = next("the timings of " + caseId, requestTimeoutSeconds(plan, timeoutSeconds));
        if (reply == null || !reply.path("results").isObject()) {
            if (reply != null) {
                System.out.println("   anchor: " + reply.path("error").asText(reply.toString()));
            }
            return Map.of();
        }
        return TorchCpuAnchors.results(reply.path("results"));
    }

    /**
     * How long one case may take before the anchor is given up: its plan's warm-up and measuring time four times
     * over, plus two minutes for a slow case's minimum samples, and never more than the whole anchor's limit (which
     * also bounds starting torch). A wedged torch then stalls the run minutes, not the anchor's half hour.
     */
    static long requestTimeoutSeconds(MeasurementPlan plan, long anchorLimitSeconds) {
        long planSeconds = (long) Math.ceil((plan.warmupMillis() + plan.maxMeasureMillis()) / 1000.0);
        return Math.min(anchorLimitSeconds, 120 + 4 * planSeconds);
    }

    /**
     * The next reply, or null after recording why none came (the process ended, timed out, or wrote non-JSON, or this
     * thread was interrupted waiting: the interrupt is kept, and the anchor is given up).
     */
    private JsonNode next(String what, long seconds) {
        String line;
        try {
            line = replies.poll(seconds, TimeUnit.SECONDS);
            if (line != null && line.equals(ENDED)) {
                replies.add(ENDED);
                boolean exited = process.waitFor(5, TimeUnit.SECONDS);
                fail("the process ended before " + what + (exited ? " (exit " + process.exitValue() + ")" : ""));
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted while waiting for " + what);
            return null;
        }
        if (line == null) {
            fail("no reply with " + what + " in " + seconds + " s");
            return null;
        }
        try {
            return Json.MAPPER.readTree(line);
        } catch (IOException e) {
            fail("unreadable reply (" + e.getMessage() + ")");
            return null;
        }
    }

    private void fail(String why) {
        if (failure == null) {
            failure = why;
            process.destroyForcibly();
        }
    }

    /** Asks the process to quit and waits a little for it; a process still up then is killed. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            try {
                requests.write("{\"quit\": true}\n");
                requests.close();
            } catch (IOException ignored) {
                // it is going away either way
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
