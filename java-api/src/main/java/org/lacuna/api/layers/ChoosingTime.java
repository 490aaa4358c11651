package org.lacuna.api.layers;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.lacuna.runtime.schedule.Scheduler;

/**
 * The host time layers spend choosing their kernels, charged to their session's {@link Scheduler}: the wall-clock
 * time of every choosing section and, for the sections that decide (a decision, a live trial's bookkeeping), the
 * calling thread's CPU time as well ({@link Scheduler#choosingCpuNanos()}). On a small machine a choosing section's
 * wall time holds what other threads (the JIT's compilers, the collector) took of its core meanwhile; its CPU time is
 * what choosing itself ran. A planned forward's lookup (tens of nanoseconds a layer) is timed on the wall clock alone:
 * reading a thread's CPU time costs more than the lookup. A layer whose decision runs other layers (an encoder block
 * measuring its dense and its token-dropping forms runs its linear layers, which charge their own choosing) counts
 * their charges once: it makes the decision {@link #collecting} the charges made inside it by this call alone, and
 * charges its own time less those. The charges are collected in a scoped value of the calling thread, not read off
 * the scheduler's total, which other threads add to at the same time.
 */
final class ChoosingTime {
    private static final ScopedValue<Charges> ENCLOSING = ScopedValue.newInstance();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** Whether this JVM measures a thread's CPU time (else {@link #cpuNanos()} reads 0 and none is charged). */
    private static final boolean CPU_TIME = THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();

    private ChoosingTime() {
    }

    /** What layers charged inside one {@link #collecting} call: wall and CPU nanoseconds. */
    private static final class Charges {
        final LongAdder wall = new LongAdder();
        final LongAdder cpu = new LongAdder();
    }

    /** What {@code body} returned and the choosing time charged while it ran, on this thread. */
    record Collected<T>(T value, long innerNanos, long innerCpuNanos) {
    }

    /** This thread's CPU time so far, ns (0 where it is not measured): a choosing section's start and end. */
    static long cpuNanos() {
        return measuresCpu() ? THREADS.getCurrentThreadCpuTime() : 0;
    }

    /**
     * Whether this thread's CPU time is measured: the JVM must measure threads' CPU time, and not on a virtual thread,
     * whose CPU time the thread bean reads as -1 (a carrier runs other virtual threads between its reads).
     */
    private static boolean measuresCpu() {
        return CPU_TIME && !Thread.currentThread().isVirtual();
    }

    /**
     * Charges a live trial's bookkeeping ({@code nanos} on the wall clock, {@code cpuNanos} of this thread's CPU) as
     * choosing ({@link #charge}) and spends it from the scheduler's trial budget ({@link Scheduler#chargeTrial}): its
     * CPU time where this thread's is measured, else (a virtual thread, a JVM that does not measure it) its wall
     * time. The wall time also holds what other threads took of the core meanwhile (on the shared 2-vCPU development
     * machine, two to three times the CPU time: ad hoc, not kept as a record), which the trial did not cause and would
     * not save by stopping; spent from the budget, it cut candidates before their first sample.
     */
    static void chargeTrial(Scheduler scheduler, long nanos, long cpuNanos) {
        charge(scheduler, nanos, cpuNanos);
        boolean cpu = measuresCpu();
        scheduler.chargeTrial(cpu ? Math.max(0, cpuNanos) : nanos, cpu);
    }

    /** Charges {@code nanos} of wall-clock time to {@code scheduler}, and to the decision this thread is inside. */
    static void charge(Scheduler scheduler, long nanos) {
        scheduler.charge(nanos);
        if (ENCLOSING.isBound()) {
            ENCLOSING.get().wall.add(nanos);
        }
    }

    /** Charges a deciding section: {@code nanos} of wall-clock time and {@code cpuNanos} of this thread's CPU. */
    static void charge(Scheduler scheduler, long nanos, long cpuNanos) {
        charge(scheduler, nanos);
        scheduler.chargeCpu(cpuNanos);
        if (ENCLOSING.isBound()) {
            ENCLOSING.get().cpu.add(cpuNanos);
        }
    }

    /**
     * Runs {@code body}, collecting what the layers it runs on this thread charge (they charge the scheduler as
     * ever; an enclosing collection sees their charges too).
     */
    static <T> Collected<T> collecting(Supplier<T> body) {
        Charges inner = new Charges();
        T value = ScopedValue.where(ENCLOSING, inner).call(body::get);
        long nanos = inner.wall.sum();
        long cpu = inner.cpu.sum();
        if (ENCLOSING.isBound()) {
            ENCLOSING.get().wall.add(nanos);
            ENCLOSING.get().cpu.add(cpu);
        }
        return new Collected<>(value, nanos, cpu);
    }
}
