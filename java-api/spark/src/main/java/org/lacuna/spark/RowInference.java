package org.lacuna.spark;

import java.io.Serializable;
import java.util.List;
import org.lacuna.api.Session;

/**
 * What a transformer runs on its executors, with its parameters resolved on the driver: how to load the model
 * (once per executor JVM, under {@link #modelKey()}), how to check one row's input and how to run a batch of them.
 *
 * @param <M> the loaded model
 * @param <P> one row's input once checked and parsed (a text, a point cloud)
 */
interface RowInference<M extends AutoCloseable, P> extends Serializable {
    ModelKey modelKey();

    M load(Session session);

    /**
     * Whether the model may be called from several task threads at once (it serialises its own device work);
     * otherwise calls take turns.
     */
    default boolean modelIsThreadSafe() {
        return false;
    }

    /**
     * Checks and parses one non-null input, on the task's own thread (not holding the model).
     *
     * @throws org.lacuna.runtime.LacunaException naming the problem if the row is bad
     */
    P prepare(Object input);

    /**
     * Runs one batch on the model, one outcome per input in order: a row the model finds bad (an over-long text)
     * gets a failed outcome. Throws if the batch as a whole fails; the caller then runs its rows one by one.
     */
    List<RowOutcome> infer(M model, List<P> batch);
}
