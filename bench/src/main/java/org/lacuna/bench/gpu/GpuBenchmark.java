package org.lacuna.bench.gpu;

import java.util.List;

/**
 * A group of GPU benchmark cases. Implementations are listed in
 * {@code META-INF/services/org.lacuna.bench.gpu.GpuBenchmark} (in any jar on the class path) and run by
 * {@link GpuBenchMain}. A benchmark allocates through {@link BenchContext#allocateRotating}, times through
 * {@link BenchContext#measure}, and frees what it allocated before returning.
 */
public interface GpuBenchmark {
    /** Stable, unique, [a-z0-9-]: {@code --filter} matches it and records are compared by it. */
    String name();

    /** Runs every case; a thrown exception marks this benchmark failed and the others still run. */
    List<BenchResult> run(BenchContext context) throws Exception;
}
