package org.lacuna.bench.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * This machine's fp32 FMA peak as the JVM reaches it: a Vector API loop of independent fused multiply-adds at the
 * preferred width (AVX-512: 16 lanes), on one thread and on N. Twelve accumulators hide the FMA latency (4 cycles ×
 * 2 ports needs at least 8 in flight); the values converge (×0.999999 + 1e-6), so no denormal or overflow slows it.
 * Only loaded when {@code jdk.incubator.vector} is in the boot layer ({@link CpuBenchMain} checks first).
 */
final class FmaPeak {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;

    private FmaPeak() {
    }

    static String method() {
        return "Vector API FMA loop, " + SPECIES.length() + " fp32 lanes x " + CHAINS + " independent chains, best of 5";
    }

    /** GFLOP/s of {@code threads} threads each running the loop for about {@code millis}; the best of 5 tries. */
    static double measure(int threads, double millis) throws InterruptedException {
        long iterations = calibrate(millis);
        double best = 0;
        for (int attempt = 0; attempt < 5; attempt++) {
            best = Math.max(best, run(threads, iterations));
        }
        return best;
    }

    private static long calibrate(double millis) {
        // Short calls until C2 has compiled the loop: an interpreted Vector API loop boxes every vector and runs
        // orders of magnitude below the peak, and one long first call may finish before its OSR compilation lands.
        long warmStart = System.nanoTime();
        for (int call = 0; call < 2_000 || System.nanoTime() - warmStart < 300_000_000L; call++) {
            loop(1 << 10);
        }
        long iterations = 1 << 16;
        while (true) {
            long start = System.nanoTime();
            loop(iterations);
            double took = (System.nanoTime() - start) / 1e6;
            if (took >= millis / 4 || iterations > 1L << 34) {
                return (long) (iterations * Math.max(1, millis / took));
            }
            iterations *= 4;
        }
    }

    private static double run(int threads, long iterations) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        float[] sink = new float[threads];
        for (int t = 0; t < threads; t++) {
            int index = t;
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                sink[index] = loop(iterations);
            }));
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread w : workers) {
            w.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double flops = 2.0 * SPECIES.length() * CHAINS * iterations * threads;
        if (Float.isNaN(sink[0])) {
            throw new IllegalStateException("FMA loop produced NaN");
        }
        return flops / seconds / 1e9;
    }

    /** {@code iterations} rounds of 12 independent vector FMAs; returns a lane so the JIT keeps the work. */
    static float loop(long iterations) {
        FloatVector m = FloatVector.broadcast(SPECIES, 0.999999f);
        FloatVector a = FloatVector.broadcast(SPECIES, 1e-6f);
        FloatVector c0 = FloatVector.broadcast(SPECIES, 0.1f);
        FloatVector c1 = FloatVector.broadcast(SPECIES, 0.2f);
        FloatVector c2 = FloatVector.broadcast(SPECIES, 0.3f);
        FloatVector c3 = FloatVector.broadcast(SPECIES, 0.4f);
        FloatVector c4 = FloatVector.broadcast(SPECIES, 0.5f);
        FloatVector c5 = FloatVector.broadcast(SPECIES, 0.6f);
        FloatVector c6 = FloatVector.broadcast(SPECIES, 0.7f);
        FloatVector c7 = FloatVector.broadcast(SPECIES, 0.8f);
        FloatVector c8 = FloatVector.broadcast(SPECIES, 0.9f);
        FloatVector c9 = FloatVector.broadcast(SPECIES, 1.0f);
        FloatVector c10 = FloatVector.broadcast(SPECIES, 1.1f);
        FloatVector c11 = FloatVector.broadcast(SPECIES, 1.2f);
        for (long i = 0; i < iterations; i++) {
            c0 = c0.fma(m, a);
            c1 = c1.fma(m, a);
            c2 = c2.fma(m, a);
            c3 = c3.fma(m, a);
            c4 = c4.fma(m, a);
            c5 = c5.fma(m, a);
            c6 = c6.fma(m, a);
            c7 = c7.fma(m, a);
            c8 = c8.fma(m, a);
            c9 = c9.fma(m, a);
            c10 = c10.fma(m, a);
            c11 = c11.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
