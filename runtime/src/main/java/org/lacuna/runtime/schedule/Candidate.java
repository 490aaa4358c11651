package org.lacuna.runtime.schedule;

import java.util.Objects;

/**
 * One way the serving backend can compute a layer's function: a name for reports and the store, the kernel family
 * whose rate predicts it, the work one call does, and how to run it once on the current input (into the layer's
 * output). Every candidate of a layer computes the same function; the scheduler only decides which is fastest.
 * The layer builds its candidates from its own op calls, so the scheduler never depends on op names.
 *
 * @param name     e.g. {@code blas-dense}, {@code two-four}; unique among one layer's candidates
 * @param kernel   the {@link EfficiencyTable} entry that rates it, e.g. {@code cpu.two-four}
 * @param dense    whether this is a dense baseline: a sparse candidate never stays chosen where a dense one
 *                 measured faster
 * @param run      runs it once on the current input, or null where it can only be predicted (reports, tests)
 */
public record Candidate(String name, String kernel, Work work, boolean dense, Runnable run) {
    public Candidate {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(work, "work");
    }

    public boolean runnable() {
        return run != null;
    }

    /** The same candidate bound to another input: what a layer does after planning. */
    public Candidate bound(Runnable newRun) {
        return new Candidate(name, kernel, work, dense, newRun);
    }
}
