package org.lacuna.runtime.schedule;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * One way the serving backend can compute a layer's function: a name for reports and the store, the kernel family
 * whose rate predicts it, the work one call does, and how to run it once on the current input (into the layer's
 * output). Every candidate of a layer computes the same function; the scheduler only decides which is fastest.
 * The layer builds its candidates from its own op calls, so the scheduler never depends on op names.
 *
 * <p>The work may be an estimate that costs something to make (a convolution's implicit-GEMM work sorts the kernel
 * map's rows for its tile redundancy): {@link #lazy} defers it to the first {@link #work()}, which only the
 * scheduler's first decision for a signature asks for, so candidates offered for a signature already decided cost
 * nothing. The estimate is made at most once per candidate.
 */
public final class Candidate {
    private final String name;
    private final String kernel;
    private final Supplier<Work> estimate;
    private final boolean dense;
    private final Runnable run;
    /** The estimate once made (a {@link Work} is immutable, so a racing second estimate is harmless). */
    private volatile Work work;

    /**
     * @param name   e.g. {@code blas-dense}, {@code two-four}; unique among one layer's candidates
     * @param kernel the {@link EfficiencyTable} entry that rates it, e.g. {@code cpu.two-four}
     * @param dense  whether this is a dense baseline: a sparse candidate never stays chosen where a dense one
     *               measured faster
     * @param run    runs it once on the current input, or null where it can only be predicted (reports, tests)
     */
    public Candidate(String name, String kernel, Work work, boolean dense, Runnable run) {
        this(name, kernel, (Supplier<Work>) null, dense, run);
        this.work = Objects.requireNonNull(work, "work");
    }

    /**
     * {@code estimate} null where the work is known (set by the caller): no lambda is made for it, since linking one
     * is dear in the cold JVM where a layer builds its first candidates.
     */
    private Candidate(String name, String kernel, Supplier<Work> estimate, boolean dense, Runnable run) {
        this.name = Objects.requireNonNull(name, "name");
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.estimate = estimate;
        this.dense = dense;
        this.run = run;
    }

    /** A candidate whose work is estimated by {@code estimate} when first asked for, not now. */
    public static Candidate lazy(String name, String kernel, Supplier<Work> estimate, boolean dense, Runnable run) {
        return new Candidate(name, kernel, Objects.requireNonNull(estimate, "estimate"), dense, run);
    }

    public String name() {
        return name;
    }

    public String kernel() {
        return kernel;
    }

    /** The work one call does: estimated now if it was deferred ({@link #lazy}) and not asked for before. */
    public Work work() {
        Work known = work;
        if (known == null) {
            known = Objects.requireNonNull(estimate.get(), "work estimate of " + name);
            work = known;
        }
        return known;
    }

    /** Whether {@link #work()} has been estimated (always for a candidate made with a known work), for tests. */
    public boolean workKnown() {
        return work != null;
    }

    public boolean dense() {
        return dense;
    }

    /** Runs it once on the current input, or null where it can only be predicted. */
    public Runnable run() {
        return run;
    }

    public boolean runnable() {
        return run != null;
    }

    /** The same candidate bound to another input: what a layer does after planning (the estimate is shared). */
    public Candidate bound(Runnable newRun) {
        Work known = work;
        Candidate out = new Candidate(name, kernel, known != null ? null : this::work, dense, newRun);
        out.work = known;
        return out;
    }

    @Override
    public String toString() {
        return "Candidate[" + name + ", " + kernel + (dense ? ", dense" : "") + (work == null ? ", work not estimated"
                : ", " + work) + (run == null ? ", predict-only" : "") + "]";
    }
}
