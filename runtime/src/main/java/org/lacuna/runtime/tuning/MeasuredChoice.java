package org.lacuna.runtime.tuning;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.lacuna.runtime.backend.DeviceTimer;

/**
 * Picks among interchangeable kernels by timing them on the real input, once per shape bucket, and remembers the
 * winner. Each candidate gets warm-up launches (which also compile it) and the median of several timed launches,
 * so one slow outlier cannot decide. Thread-safe; a bucket is measured at most once.
 *
 * @param <K> the kernel identifier
 * @param <B> the shape bucket (e.g. the token count rounded up to a power of two)
 */
public final class MeasuredChoice<K, B> {
    public static final int WARMUP = 2;
    public static final int SAMPLES = 7;

    private final Map<B, Decision<K>> decisions = new ConcurrentHashMap<>();

    /** The measured winner for a bucket, and every candidate's median in milliseconds. */
    public record Decision<K>(K chosen, Map<K, Double> medianMillis) {
    }

    /**
     * The kernel for {@code bucket}: measured now if this bucket is new and there is more than one candidate.
     *
     * @param run runs one candidate once on the current input (asynchronously on the timer's stream)
     */
    public K choose(B bucket, List<K> candidates, DeviceTimer timer, Consumer<K> run) {
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        return decisions.computeIfAbsent(bucket, b -> measure(candidates, timer, run)).chosen();
    }

    public Optional<Decision<K>> decision(B bucket) {
        return Optional.ofNullable(decisions.get(bucket));
    }

    public Map<B, Decision<K>> decisions() {
        return Map.copyOf(decisions);
    }

    private Decision<K> measure(List<K> candidates, DeviceTimer timer, Consumer<K> run) {
        Map<K, Double> medians = new LinkedHashMap<>();
        RuntimeException firstFailure = null;
        for (K candidate : candidates) {
            try {
                for (int i = 0; i < WARMUP; i++) {
                    run.accept(candidate);
                }
                double[] samples = new double[SAMPLES];
                for (int i = 0; i < SAMPLES; i++) {
                    timer.start();
                    run.accept(candidate);
                    samples[i] = timer.stopMillis();
                }
                java.util.Arrays.sort(samples);
                medians.put(candidate, samples[SAMPLES / 2]);
            } catch (org.lacuna.runtime.error.LacunaException e) {
                // A candidate that cannot run here (library missing, shape unsupported) simply drops out.
                firstFailure = firstFailure == null ? e : firstFailure;
            }
        }
        if (medians.isEmpty()) {
            throw firstFailure;
        }
        K best = medians.entrySet().stream().min(Comparator.comparingDouble(Map.Entry::getValue)).orElseThrow().getKey();
        return new Decision<>(best, Map.copyOf(medians));
    }
}
