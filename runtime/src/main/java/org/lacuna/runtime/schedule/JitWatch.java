package org.lacuna.runtime.schedule;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * Whether the JVM's JIT compiler is still at work: a live trial must not judge a candidate whose code the JIT compiles
 * (the CPU backend's Java kernels) against native code (OpenBLAS) on calls taken before that code was compiled. On a
 * MiniLM-shaped encoder at 1 x 128 tokens (AMD Zen 4, 2 vCPUs) the trial timed {@code vector-dense} at 1.51 and 1.69 ms
 * on QKV and FFN-up against about 0.55 and 0.75 ms once compiled, chose OpenBLAS, and the forward took 25 ms instead
 * of 17.2-17.5 ms (ad hoc, issue 11).
 *
 * <p>The JIT counts as compiling while the JVM's total compilation time ({@link CompilationMXBean}) has moved within
 * the last {@link #QUIET_NANOS}, the rule the benchmarks use before timing ("JIT quiet"); a JVM that reports no
 * compilation time never counts as compiling. The bean is read at most once per {@link #READ_EVERY_NANOS} (every few
 * forwards of a small model), never per layer call: in between the last reading answers. A watch that has never
 * read counts as compiling for its first {@link #QUIET_NANOS}: it cannot tell a quiet JIT from one that has just
 * started. Thread-safe.
 */
public final class JitWatch {
    /** How long the total compilation time must stand still before the JIT counts as quiet. */
    public static final long QUIET_NANOS = 250_000_000L;
    /**
     * The bean is read at most this often; in between the last reading answers. At 5 ms a re-trial waiting through
     * 227 forwards of 4.5 ms (1 x 32 tokens) cost about 57 us of choosing host time per forward, most of it reading
     * the bean (ad hoc, the scheduler bench at 22:12); a tenth of the quiet interval is fine enough.
     */
    public static final long READ_EVERY_NANOS = 25_000_000L;

    private static final JitWatch SYSTEM = new JitWatch(JitWatch::systemCompilationMillis, System::nanoTime);

    private final LongSupplier compilationMillis;
    private final LongSupplier clock;
    private boolean read;
    private long lastRead;
    private long lastTotal;
    private long lastChange;

    /**
     * @param compilationMillis the JIT's total compilation time so far, ms, non-decreasing; negative where unknown
     * @param clock             nanoseconds, as {@link System#nanoTime()}
     */
    public JitWatch(LongSupplier compilationMillis, LongSupplier clock) {
        this.compilationMillis = compilationMillis;
        this.clock = clock;
    }

    /** Its clock's time, ns: what a wait for the JIT to go quiet is measured by. */
    long now() {
        return clock.getAsLong();
    }

    /** This JVM's watch, shared by every scheduler (so a new scheduler in a warm JVM knows the JIT is quiet). */
    public static JitWatch system() {
        return SYSTEM;
    }

    /** A watch on a JIT that is never compiling (tests; a JVM without one). */
    public static JitWatch quiet() {
        return new JitWatch(() -> -1, System::nanoTime);
    }

    /**
     * The JVM's compilation bean, looked up on the first reading: a scheduler on a confirmed store never opens a
     * trial, and never reads it. Null where the JVM has no JIT or does not time it.
     */
    private static final class CompilationBean {
        static final CompilationMXBean BEAN = lookUp();

        private static CompilationMXBean lookUp() {
            CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
            return bean == null || !bean.isCompilationTimeMonitoringSupported() ? null : bean;
        }
    }

    private static long systemCompilationMillis() {
        CompilationMXBean bean = CompilationBean.BEAN;
        return bean == null ? -1 : bean.getTotalCompilationTime();
    }

    /** Whether the JIT has compiled anything within the last {@link #QUIET_NANOS}. */
    public synchronized boolean compiling() {
        long now = clock.getAsLong();
        if (read && now - lastRead < READ_EVERY_NANOS) {
            return now - lastChange < QUIET_NANOS;
        }
        long total = compilationMillis.getAsLong();
        if (total < 0) {
            return false;
        }
        if (!read || total != lastTotal) {
            lastTotal = total;
            lastChange = now;
        }
        read = true;
        lastRead = now;
        return now - lastChange < QUIET_NANOS;
    }

    /**
     * Whether the JVM compiles {@code candidate}'s code as it runs: the CPU backend's kernels other than the native
     * BLAS path (its kernel family {@code cpu.blas-dense}) are Java code. A GPU candidate's code is compiled once,
     * before its first launch, and a native library's not at all.
     */
    public static boolean compiledByJit(Candidate candidate) {
        String kernel = candidate.kernel();
        return kernel.startsWith("cpu.") && !kernel.equals("cpu.blas-dense");
    }
}
