package org.lacuna.bench.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jdk.incubator.vector.VectorSpecies;

/**
 * This machine's fp32 FMA peak as the JVM reaches it: a Vector API loop of independent fused multiply-adds at the
 * preferred width (AVX-512: 16 lanes), on one thread and on N. The loop ({@code FmaChainLoop}, generated at build
 * time by {@code codegen/src/org/lacuna/codegen/FmaChainLoop.java}) keeps twelve accumulators in flight to hide the
 * FMA latency (4 cycles × 2 ports needs at least 8); the values converge, so no denormal or overflow slows it.
 * Only loaded when {@code jdk.incubator.vector} is in the boot layer ({@link CpuBenchMain} checks first).
 */
final class FmaPeak {
    private static final VectorSpecies<Float> SPECIES = FmaChainLoop.SPECIES;
    private static final int CHAINS = FmaChainLoop.CHAINS;

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
            FmaChainLoop.loop(1 << 10);
        }
        long iterations = 1 << 16;
        while (true) {
            long start = System.nanoTime();
            FmaChainLoop.loop(iterations);
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
                sink[index] = FmaChainLoop.loop(iterations);
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
}
