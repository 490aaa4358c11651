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
 * The once-per-device microbenchmark behind an {@link EfficiencyTable}: the memory bandwidth (a large cast), the cost
 * of a tiny call, and for every kernel family the backend offers its arithmetic rate on a compute-bound problem and
 * its call overhead on a tiny one. About a second on the development CPU; the table is stored and reused.
 */
public final class Calibration {
    private static final int WARMUP = 3;
    private static final int SAMPLES = 5;
    /** The compute-bound linear problem: big enough to reach each kernel's rate, small enough to be quick. */
    private static final int TOKENS = 256;
    private static final int IN = 512;
    private static final int OUT = 1024;
    /** CSR is calibrated at a density where it is a plausible choice. */
    private static final double CSR_DENSITY = 0.05;

    private Calibration() {
    }

    /** Measures {@code backend} now. */
    public static EfficiencyTable measure(Backend backend) {
        String name = backend.name();
        OpSet ops = backend.ops();
        List<DeviceArray> arrays = new ArrayList<>();
        List<TwoFourWeight> twoFours = new ArrayList<>();
        List<CsrWeight> csrs = new ArrayList<>();
        try (DeviceTimer timer = backend.newTimer()) {
            double bandwidth = bandwidth(backend, ops, timer, arrays);
            SplittableRandom random = new SplittableRandom(42);
            DType dtype = DType.F16;
            float[] w = TwoFourPruning.prune(randoms(random, OUT * IN), OUT, IN);
            float[] sparse = randoms(random, OUT * IN);
            for (int i = 0; i < sparse.length; i++) {
                sparse[i] = random.nextDouble() < CSR_DENSITY ? sparse[i] : 0f;
            }
            DeviceArray dense = keep(arrays, DeviceWeights.uploadDense(backend, w, OUT, IN, dtype));
            TwoFourWeight twoFour = DeviceWeights.upload(backend, TwoFourWeights.compress(w, OUT, IN, dtype));
            twoFours.add(twoFour);
            CsrWeight csr = DeviceWeights.upload(backend, CsrMatrix.fromDense(sparse, OUT, IN, dtype));
            csrs.add(csr);
            Map<String, KernelRate> rates = new TreeMap<>();
            double overhead = Double.MAX_VALUE;
            double peak = 0;
            for (int tokens : new int[] {1, TOKENS}) {
                DeviceArray x = keep(arrays, HostData.upload(backend, dtype, Shape.of(tokens, IN),
                        randoms(random, tokens * IN)));
                DeviceArray y = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(tokens, OUT),
                        new float[tokens * OUT]));
                LinearStatistics stats = new LinearStatistics(tokens, IN, OUT, dtype, 0.5, 1.0, 1.0);
                LinearStatistics csrStats = new LinearStatistics(tokens, IN, OUT, dtype,
                        WeightStatistics.of(sparse, OUT, IN).density(), 0, 1.0);
                var denseForms = new LinearCandidates.Forms(dense, twoFour, null, null, Activation.NONE, DType.F32);
                var csrForms = new LinearCandidates.Forms(null, null, csr, null, Activation.NONE, DType.F32);
                List<Candidate> all = new ArrayList<>(LinearCandidates.of(name, ops, stats, denseForms, x, y));
                all.addAll(LinearCandidates.of(name, ops, csrStats, csrForms, x, y));
                for (Candidate c : all) {
                    double seconds = time(timer, c.run()) / 1e3;
                    if (tokens == 1) {
                        rates.put(c.kernel(), new KernelRate(1, bandwidth, seconds));
                        overhead = Math.min(overhead, seconds);
                    } else {
                        KernelRate small = rates.get(c.kernel());
                        double compute = Math.max(seconds - small.overheadSeconds(), seconds * 0.05);
                        double flopRate = c.work().flops() / compute;
                        rates.put(c.kernel(), new KernelRate(flopRate, bandwidth, small.overheadSeconds()));
                        if (c.dense()) {
                            peak = Math.max(peak, flopRate);
                        }
                    }
                }
            }
            convolution(backend, ops, timer, random, bandwidth, rates, arrays);
            // The encoder block is mostly its linear layers: it is rated as the best dense GEMM.
            rates.put(name + ".encoder-block", new KernelRate(peak, bandwidth, overhead));
            return new EfficiencyTable(peak, bandwidth, overhead, backend.device().multiprocessors(), rates, "measured " + TuningStore.now()
                    + " by Calibration");
        } finally {
            arrays.forEach(a -> a.buffer().close());
            twoFours.forEach(DeviceWeights::release);
            csrs.forEach(DeviceWeights::release);
        }
    }

    /** Bytes per second of a cast of 8 M floats to F16 (4 bytes read, 2 written each). */
    private static double bandwidth(Backend backend, OpSet ops, DeviceTimer timer, List<DeviceArray> arrays) {
        int n = 8 << 20;
        DeviceArray a = keep(arrays, HostData.upload(backend, DType.F32, Shape.of(n), new float[n]));
        DeviceArray b = keep(arrays, HostData.upload(backend, DType.F16, Shape.of(n), new float[n]));
        double millis = time(timer, () -> ops.cast(a, b));
        return n * 6.0 / (millis / 1e3);
    }

    /** The convolution's rate on a 24³ block of voxels at 30% occupancy, 32 → 32 channels, and its overhead. */
    private static void convolution(Backend backend, OpSet ops, DeviceTimer timer, SplittableRandom random,
                                    double bandwidth, Map<String, KernelRate> rates, List<DeviceArray> arrays) {
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
        var map = CoordinateSet.of(packed, new int[] {1, 1, 1}).kernelMap(ConvGeometry.submanifold(3));
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
            double seconds = time(timer, c.run()) / 1e3;
            // Overhead: the per-call part the linear's tiny call showed; the rest is this kernel's arithmetic.
            double overhead = rates.values().stream().mapToDouble(KernelRate::overheadSeconds).min().orElse(0);
            double compute = Math.max(seconds - overhead, seconds * 0.05);
            rates.put(c.kernel(), new KernelRate(c.work().flops() / compute, bandwidth, overhead));
        }
    }

    private static double time(DeviceTimer timer, Runnable run) {
        for (int i = 0; i < WARMUP; i++) {
            run.run();
        }
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
