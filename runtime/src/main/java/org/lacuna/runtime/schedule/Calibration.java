package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.gemm.CsrMatrix;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.gemm.WeightStatistics;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;

/**
 * The once-per-device microbenchmark behind an {@link EfficiencyTable}: the memory bandwidth (a large cast), and for
 * every kernel family the backend offers its call overhead (a one-token 64 × 64 problem) and its arithmetic rate on
 * a compute-bound 256 × 512 × 1024 problem and on a 32-token call of the same shape as a model makes it (each call on
 * another weight, caches cold: {@link KernelRate#bySize}), and the cost of a first call's weight conversion. Each time is the median of {@link #SAMPLES} calls after a warm-up long
 * enough for the JIT to compile the kernel (a kernel still interpreted is a thousand times slower, which is what
 * distorted early tables), so one stray fast or slow call moves nothing. Every figure must fall within sanity bounds
 * ({@link #BANDWIDTH}, {@link #RATE}, {@link #OVERHEAD}); one outside is measured again, up to {@link #ATTEMPTS}
 * times, then clamped, and the table's source says so. A few seconds on the development CPU when it is idle; the
 * table is stored and reused.
 */
public final class Calibration {
    private static final int WARMUP = 3;
    /** Warm-up runs at least this long: the JIT compiles a kernel after some thousands of loop iterations. */
    private static final double WARMUP_SECONDS = 0.1;
    /**
     * ... and then on, in rounds, until the kernel has settled: a round's median within {@link #SETTLED} of the round
     * before. Early in a JVM's life (calibration runs on a layer's first forward) the Vector API kernels and the Java
     * side of a BLAS call (widening x) are still interpreted or in C1 for seconds; a fixed 0.1 s warm-up measured
     * them 5-8x slow, and the table then steered every encoder linear to the wrong kernel.
     */
    private static final double SETTLED = 0.10;
    /** The warm-up of one figure never runs longer than this, settled or not. */
    private static final double WARMUP_MAX_SECONDS = 2.0;
    private static final int SAMPLES = 7;
    /** Measurements of a figure outside its bounds before it is clamped. */
    static final int ATTEMPTS = 3;
    /** Plausible memory bandwidth of any device Lacuna runs on, bytes per second. */
    static final Bounds BANDWIDTH = new Bounds("bandwidth", 0.5e9, 20e12);
    /** Plausible arithmetic rate of a kernel, FLOP per second. */
    static final Bounds RATE = new Bounds("rate", 0.1e9, 5e15);
    /** Plausible per-call overhead of a kernel, seconds (a host call or a launch). */
    static final Bounds OVERHEAD = new Bounds("call overhead", 0.05e-6, 2e-3);

    /** The plausible range of one calibrated figure. */
    record Bounds(String what, double low, double high) {
        boolean contains(double value) {
            return value >= low && value <= high;
        }
    }
    /** The compute-bound linear problem: big enough to reach each kernel's rate, small enough to be quick. */
    private static final int TOKENS = 256;
    /**
     * The small call each linear kernel is measured on as well (same weight): a sentence's worth of tokens, where the
     * sparse kernels' token panels run part empty and a threaded call's hand-off is a large share of its time.
     */
    static final int SMALL_TOKENS = 32;
    /** Weights the small call rotates over (2 MiB each in fp32: together beyond a core's L2). */
    private static final int SMALL_WEIGHTS = 4;
    /** Timed small calls, after a warm-up of as many. */
    private static final int COLD_SAMPLES = 15;
    private static final int IN = 512;
    private static final int OUT = 1024;
    /** The tiny problem whose time is a kernel's call overhead: one token of a 64 × 64 weight. */
    private static final int TINY = 64;
    /** CSR is calibrated at a density where it is a plausible choice. */
    private static final double CSR_DENSITY = 0.05;

    private Calibration() {
    }

    /**
     * Measures {@code backend} now: one whole pass to warm up, then the pass that counts. In a cold JVM (calibration
     * runs on a layer's first forward) the first pass still runs much of the shared host path (op dispatch, argument
     * checks, 16-bit widening, pooled allocation) interpreted, whichever kernel it times: on the development machine
     * it rated OpenBLAS at 64 GFLOP/s with 67-750 us call overheads, against 210 GFLOP/s and 1-5 us in the next pass,
     * and that table sent the encoder's linears to the wrong kernel. The table is stored per device, so the second
     * pass (about a second here) is paid once.
     */
    public static EfficiencyTable measure(Backend backend) {
        measureOnce(backend);
        return measureOnce(backend);
    }

    private static EfficiencyTable measureOnce(Backend backend) {
        String name = backend.name();
        OpSet ops = backend.ops();
        List<DeviceArray> arrays = new ArrayList<>();
        List<TwoFourWeight> twoFours = new ArrayList<>();
        List<CsrWeight> csrs = new ArrayList<>();
        List<String> clamped = new ArrayList<>();
        try (DeviceTimer timer = backend.newTimer()) {
            double bandwidth = sane(BANDWIDTH, "", () -> bandwidth(backend, ops, timer, arrays), clamped);
            SplittableRandom random = new SplittableRandom(42);
            float[] w = TwoFourPruning.prune(randoms(random, OUT * IN), OUT, IN);
            float[] sparse = randoms(random, OUT * IN);
            for (int i = 0; i < sparse.length; i++) {
                sparse[i] = random.nextDouble() < CSR_DENSITY ? sparse[i] : 0f;
            }
            Map<String, Double> overheads = new TreeMap<>();
            for (Candidate c : linearCandidates(backend, ops, random, arrays, twoFours, csrs, 1, TINY, TINY, w,
                    sparse)) {
                overheads.put(c.kernel(), sane(OVERHEAD, c.kernel(), () -> time(timer, c.run()) / 1e3, clamped));
            }
            Map<String, KernelRate> rates = new TreeMap<>();
            double overhead = overheads.values().stream().mapToDouble(Double::doubleValue).min().orElse(0);
            double peak = 0;
            Map<String, KernelRate.SizeRate> small = new TreeMap<>();
            Map<String, Double> forms = new TreeMap<>();
            // The small call as a model makes it: each call on another weight (a model's other layers stream their
            // own weights through the caches between two calls of one layer) after a pass over a large array that
            // leaves the caches cold and the worker threads idle. Measured back to back on one weight, a 32-token
            // call ran about twice as fast as in the encoder (its weight in L2, its workers spinning; ad hoc, not kept
            // as a record).
            List<List<Candidate>> smallSets = new ArrayList<>();
            for (int k = 0; k < SMALL_WEIGHTS; k++) {
                smallSets.add(linearCandidates(backend, ops, random, arrays, twoFours, csrs, SMALL_TOKENS, IN, OUT, w,
                        sparse));
            }
            int evictLength = 4 << 20;
            DeviceArray evictFrom = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(evictLength),
                    new float[evictLength]));
            DeviceArray evictTo = keep(arrays, HostData.upload(backend, DType.F16, Shape.of(evictLength),
                    new float[evictLength]));
            Runnable evict = () -> ops.elementwise().cast(evictFrom, evictTo);
            int kinds = smallSets.get(0).size();
            List<List<Runnable>> callsPerKernel = new ArrayList<>();
            for (int i = 0; i < kinds; i++) {
                List<Runnable> calls = new ArrayList<>();
                for (List<Candidate> set : smallSets) {
                    calls.add(set.get(i).run());
                }
                callsPerKernel.add(calls);
            }
            // Interleaved: every kernel's k-th sample is taken in the same round, so a burst of load from other jobs,
            // or drift, falls on every kernel alike and their order (what the scheduler acts on) survives it.
            // Measured one kernel after the other on the shared development machine, the 32-token rates of OpenBLAS
            // and the Vector API GEMM swapped order between two runs minutes apart (ad hoc, not kept as a record).
            double[] coldMillis = timeColdInterleaved(timer, callsPerKernel, evict);
            for (int i = 0; i < kinds; i++) {
                Candidate c = smallSets.get(0).get(i);
                double kernelOverhead = overheads.getOrDefault(c.kernel(), overhead);
                List<Runnable> calls = callsPerKernel.get(i);
                double[] interleaved = {coldMillis[i]};
                // The interleaved figure first; one out of bounds is measured again on this kernel alone.
                double rate = sane(RATE, c.kernel(), () -> {
                    double millis = interleaved[0] >= 0 ? interleaved[0] : timeCold(timer, calls, evict);
                    interleaved[0] = -1;
                    return rateFrom(c, millis / 1e3, kernelOverhead);
                }, clamped);
                small.put(c.kernel(), new KernelRate.SizeRate(c.work().flops(), rate));
            }
            // A first call's conversion, on weights of their own, timed once the kernels have run their cold samples
            // in this pass: its excess over a steady call is the weight's conversion, not the kernel's compilation
            // (in a fresh JVM the first pass leaves a 32-token kernel run only a few dozen times).
            List<List<Candidate>> formSets = new ArrayList<>();
            for (int k = 0; k < SMALL_WEIGHTS; k++) {
                formSets.add(linearCandidates(backend, ops, random, arrays, twoFours, csrs, SMALL_TOKENS, IN, OUT, w,
                        sparse));
            }
            for (int i = 0; i < kinds; i++) {
                Candidate c = formSets.get(0).get(i);
                double firstMillis = 0;
                for (List<Candidate> set : formSets) {
                    evict.run();
                    timer.start();
                    set.get(i).run().run();
                    firstMillis += timer.stopMillis() / SMALL_WEIGHTS;
                }
                double kernelOverhead = overheads.getOrDefault(c.kernel(), overhead);
                double steadyMillis = (kernelOverhead + c.work().flops() / small.get(c.kernel()).flopsPerSecond())
                        * 1e3;
                forms.put(c.kernel(), c.work().weights() == 0 ? 0
                        : Math.max(0, firstMillis - steadyMillis) / 1e3 / c.work().weights());
            }
            for (Candidate c : linearCandidates(backend, ops, random, arrays, twoFours, csrs, TOKENS, IN, OUT, w,
                    sparse)) {
                double kernelOverhead = overheads.getOrDefault(c.kernel(), overhead);
                double flopRate = flopRate(timer, c, kernelOverhead, clamped);
                List<KernelRate.SizeRate> bySize = new ArrayList<>();
                if (small.containsKey(c.kernel())) {
                    bySize.add(small.get(c.kernel()));
                }
                bySize.add(new KernelRate.SizeRate(c.work().flops(), flopRate));
                rates.put(c.kernel(), new KernelRate(flopRate, bandwidth, kernelOverhead, bySize,
                        forms.getOrDefault(c.kernel(), 0.0)));
                if (c.dense()) {
                    peak = Math.max(peak, flopRate);
                }
            }
            convolution(backend, ops, timer, random, bandwidth, rates, arrays, clamped);
            // The encoder block is mostly its linear layers: it is rated as the best dense GEMM.
            rates.put(name + ".encoder-block", new KernelRate(peak, bandwidth, overhead));
            return new EfficiencyTable(peak, bandwidth, overhead, backend.device().multiprocessors(), rates, "measured "
                    + TuningStore.now() + " by Calibration" + (clamped.isEmpty() ? ""
                    : " (out of bounds after " + ATTEMPTS + " attempts, clamped: " + String.join("; ", clamped) + ")"));
        } finally {
            arrays.forEach(a -> a.buffer().close());
            twoFours.forEach(DeviceWeights::release);
            csrs.forEach(DeviceWeights::release);
        }
    }

    /**
     * Every linear candidate on a {@code tokens × in → out} problem whose weights are the leading block of {@code w}
     * (2:4, for dense and 2:4) and of {@code sparse} (for CSR), F16 storage, F32 output.
     */
    private static List<Candidate> linearCandidates(Backend backend, OpSet ops, SplittableRandom random,
                                                    List<DeviceArray> arrays, List<TwoFourWeight> twoFours,
                                                    List<CsrWeight> csrs, int tokens, int in, int out, float[] w,
                                                    float[] sparse) {
        DType dtype = DType.F16;
        float[] block = new float[out * in];
        float[] sparseBlock = new float[out * in];
        for (int r = 0; r < out; r++) {
            System.arraycopy(w, r * IN, block, r * in, in);
            System.arraycopy(sparse, r * IN, sparseBlock, r * in, in);
        }
        DeviceArray dense = keep(arrays, DeviceWeights.uploadDense(backend, block, out, in, dtype));
        TwoFourWeight twoFour = DeviceWeights.upload(backend, TwoFourWeights.compress(block, out, in, dtype));
        twoFours.add(twoFour);
        CsrWeight csr = DeviceWeights.upload(backend, CsrMatrix.fromDense(sparseBlock, out, in, dtype));
        csrs.add(csr);
        DeviceArray x = keep(arrays, HostData.upload(backend, dtype, Shape.of(tokens, in),
                randoms(random, tokens * in)));
        DeviceArray y = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(tokens, out),
                new float[tokens * out]));
        LinearStatistics stats = new LinearStatistics(tokens, in, out, dtype, 0.5, 1.0, 1.0);
        LinearStatistics csrStats = new LinearStatistics(tokens, in, out, dtype,
                WeightStatistics.of(sparseBlock, out, in).density(), 0, 1.0);
        List<Candidate> all = new ArrayList<>(LinearCandidates.of(backend.name(), ops, stats,
                new LinearCandidates.Forms(dense, twoFour, null, null, Activation.NONE, DType.F32), x, y));
        all.addAll(LinearCandidates.of(backend.name(), ops, csrStats,
                new LinearCandidates.Forms(null, null, csr, null, Activation.NONE, DType.F32), x, y));
        return all;
    }

    /** Bytes per second of a cast of 4 M floats to F16 (4 bytes read, 2 written each). */
    private static double bandwidth(Backend backend, OpSet ops, DeviceTimer timer, List<DeviceArray> arrays) {
        int n = 4 << 20;
        DeviceArray a = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(n), new float[n]));
        DeviceArray b = keep(arrays, HostData.upload(backend, DType.F16, Shape.of(n), new float[n]));
        double millis = time(timer, () -> ops.elementwise().cast(a, b));
        return n * 6.0 / (millis / 1e3);
    }

    /** The convolution's rate on a 24³ block of voxels at 30% occupancy, 32 → 32 channels, and its overhead. */
    private static void convolution(Backend backend, OpSet ops, DeviceTimer timer, SplittableRandom random,
                                    double bandwidth, Map<String, KernelRate> rates, List<DeviceArray> arrays,
                                    List<String> clamped) {
        int side = 24;
        int channels = 32;
        List<Integer> coords = new ArrayList<>();
        for (int x = 0; x < side; x++) {
            for (int y = 0; y < side; y++) {
                for (int z = 0; z < side; z++) {
                    if (random.nextDouble() < 0.3) {
                        coords.addAll(List.of(0, x, y, z));
                    }
                }
            }
        }
        int[] packed = coords.stream().mapToInt(Integer::intValue).toArray();
        CoordinateSet set = CoordinateSet.of(packed, new int[] {1, 1, 1});
        // The backend's tables for the map are freed with the set once the candidates are timed.
        try {
            var map = set.kernelMap(ConvGeometry.submanifold(3));
            int points = map.inputCount();
            DeviceArray x = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(points, channels),
                    randoms(random, points * channels)));
            DeviceArray w = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(map.volume(), channels, channels),
                    randoms(random, map.volume() * channels * channels)));
            DeviceArray y = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(map.outputCount(), channels),
                    new float[map.outputCount() * channels]));
            ConvolutionStatistics stats = new ConvolutionStatistics(map, channels, channels, DType.F32);
            for (Candidate c : ConvolutionCandidates.of(backend.name(), ops.convolution(), ops, stats,
                    new ConvolutionCandidates.Operands(x, w, null, Activation.NONE, y))) {
                // Overhead: the smallest per-call cost the linears' tiny calls showed; the rest is this kernel's
                // arithmetic.
                double overhead = rates.values().stream().mapToDouble(KernelRate::overheadSeconds).min().orElse(0);
                rates.put(c.kernel(), new KernelRate(flopRate(timer, c, overhead, clamped), bandwidth, overhead));
            }
        } finally {
            set.close();
        }
    }

    /** {@code c}'s arithmetic rate: its work over its median time less its call overhead. */
    private static double flopRate(DeviceTimer timer, Candidate c, double overhead, List<String> clamped) {
        return sane(RATE, c.kernel(), () -> rateFrom(c, time(timer, c.run()) / 1e3, overhead), clamped);
    }

    /** {@code c}'s work over {@code seconds} less {@code overhead} (at least 5% of the time stays arithmetic). */
    private static double rateFrom(Candidate c, double seconds, double overhead) {
        return c.work().flops() / Math.max(seconds - overhead, seconds * 0.05);
    }

    /**
     * {@code measure}'s figure, measured again while it falls outside {@code bounds} (a machine busy enough to push a
     * figure out of any plausible range is busy for a moment), up to {@link #ATTEMPTS} times, then clamped into
     * them with a note in {@code clamped}.
     */
    static double sane(Bounds bounds, String kernel, java.util.function.DoubleSupplier measure, List<String> clamped) {
        double value = Double.NaN;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            value = measure.getAsDouble();
            if (bounds.contains(value)) {
                return value;
            }
        }
        double kept = Double.isNaN(value) || value < bounds.low() ? bounds.low() : bounds.high();
        clamped.add(String.format(java.util.Locale.ROOT, "%s%s %.3g -> %.3g", kernel.isEmpty() ? "" : kernel + " ",
                bounds.what(), value, kept));
        return kept;
    }

    /**
     * The median of {@link #SAMPLES} timed calls, in milliseconds, after a warm-up of at least WARMUP_SECONDS that
     * goes on until two successive rounds agree within {@link #SETTLED} (at most WARMUP_MAX_SECONDS).
     */
    static double time(DeviceTimer timer, Runnable run) {
        long warmStart = System.nanoTime();
        for (int i = 0; i < WARMUP || System.nanoTime() - warmStart < WARMUP_SECONDS * 1e9; i++) {
            run.run();
        }
        double previous = round(timer, run);
        while (System.nanoTime() - warmStart < WARMUP_MAX_SECONDS * 1e9) {
            double current = round(timer, run);
            if (Math.abs(current - previous) <= SETTLED * Math.min(current, previous)) {
                return Math.min(current, previous);
            }
            previous = current;
        }
        return previous;
    }

    /**
     * The median of {@link #COLD_SAMPLES} calls, in milliseconds, each of the next of {@code calls} in turn after
     * {@code evict} (untimed), following a warm-up of as many.
     */
    static double timeCold(DeviceTimer timer, List<Runnable> calls, Runnable evict) {
        double[] samples = new double[COLD_SAMPLES];
        for (int i = 0; i < 2 * COLD_SAMPLES; i++) {
            evict.run();
            timer.start();
            calls.get(i % calls.size()).run();
            double millis = timer.stopMillis();
            if (i >= COLD_SAMPLES) {
                samples[i - COLD_SAMPLES] = millis;
            }
        }
        Arrays.sort(samples);
        return samples[COLD_SAMPLES / 2];
    }

    /**
     * Per kernel, the median of {@link #COLD_SAMPLES} calls in milliseconds, as {@link #timeCold} takes them, but in
     * rounds that call every kernel once (the order rotating), after a warm-up of as many rounds.
     */
    static double[] timeColdInterleaved(DeviceTimer timer, List<List<Runnable>> callsPerKernel, Runnable evict) {
        int kernels = callsPerKernel.size();
        double[][] samples = new double[kernels][COLD_SAMPLES];
        for (int i = 0; i < 2 * COLD_SAMPLES; i++) {
            for (int k = 0; k < kernels; k++) {
                int which = (k + i) % kernels;
                List<Runnable> calls = callsPerKernel.get(which);
                evict.run();
                timer.start();
                calls.get(i % calls.size()).run();
                double millis = timer.stopMillis();
                if (i >= COLD_SAMPLES) {
                    samples[which][i - COLD_SAMPLES] = millis;
                }
            }
        }
        double[] medians = new double[kernels];
        for (int k = 0; k < kernels; k++) {
            Arrays.sort(samples[k]);
            medians[k] = samples[k][COLD_SAMPLES / 2];
        }
        return medians;
    }

    private static double round(DeviceTimer timer, Runnable run) {
        double[] samples = new double[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            timer.start();
            run.run();
            samples[i] = timer.stopMillis();
        }
        Arrays.sort(samples);
        return samples[SAMPLES / 2];
    }

    private static DeviceArray keep(List<DeviceArray> arrays, DeviceArray a) {
        arrays.add(a);
        return a;
    }

    private static float[] randoms(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return v;
    }
}
