package org.lacuna.api.layers;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.lacuna.runtime.schedule.Scheduler;

/**
 * The host time layers spend choosing their kernels, charged to their session's {@link Scheduler}. A layer whose
 * decision runs other layers (an encoder block measuring its dense and its token-dropping forms runs its linear
 * layers, which charge their own choosing) counts their charges once: it makes the decision {@link #collecting} the
 * charges made inside it by this call alone, and charges its own time less those. The charges are collected in a
 * scoped value of the calling thread, not read off the scheduler's total, which other threads add to at the same time.
 */
final class ChoosingTime {
    private static final ScopedValue<LongAdder> ENCLOSING = ScopedValue.newInstance();

    private ChoosingTime() {
    }

    /** What {@code body} returned and the choosing time charged while it ran, on this thread. */
    record Collected<T>(T value, long innerNanos) {
    }

    /**
     * Charges a live trial's bookkeeping {@code nanos} as choosing ({@link #charge}) and spends it from the
     * scheduler's trial budget ({@link Scheduler#chargeTrial}).
     */
    static void chargeTrial(Scheduler scheduler, long nanos) {
        charge(scheduler, nanos);
        scheduler.chargeTrial(nanos);
    }

    /** Charges {@code nanos} to {@code scheduler}, and to the decision this thread is inside, if any. */
    static void charge(Scheduler scheduler, long nanos) {
        scheduler.charge(nanos);
        if (ENCLOSING.isBound()) {
            ENCLOSING.get().add(nanos);
        }
    }

    /**
     * Runs {@code body}, collecting what the layers it runs on this thread charge (they charge the scheduler as
     * ever; an enclosing collection sees their charges too).
     */
    static <T> Collected<T> collecting(Supplier<T> body) {
        LongAdder inner = new LongAdder();
        T value = ScopedValue.where(ENCLOSING, inner).call(body::get);
        long nanos = inner.sum();
        if (ENCLOSING.isBound()) {
            ENCLOSING.get().add(nanos);
        }
        return new Collected<>(value, nanos);
    }
}
