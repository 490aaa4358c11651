package org.lacuna.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

/**
 * One partition through a model, {@code batchSize} rows at a time: rows are pulled lazily from Spark's iterator, so a
 * partition is never held whole. Each output row is the input row with the output value appended, then the error
 * (if the transformer has an error column) and the backend (if it has a backend column).
 *
 * <p>A bad row (a corrupt scan, an over-long text) fails alone: if a batch fails as a whole its rows are run again
 * one by one, so only the culprit gets the error. Failures that are not about the row (a closed session, a CUDA
 * error, a bug) fail the task, as Spark expects, and Spark retries it.
 */
final class PartitionInference<M extends AutoCloseable, P> implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final RowInference<M, P> inference;
    private final int inputIndex;
    private final int batchSize;
    private final InvalidRowPolicy policy;
    private final boolean errorColumn;
    private final boolean backendColumn;

    PartitionInference(RowInference<M, P> inference, int inputIndex, int batchSize, InvalidRowPolicy policy,
                       boolean errorColumn, boolean backendColumn) {
        this.inference = inference;
        this.inputIndex = inputIndex;
        this.batchSize = batchSize;
        this.policy = policy;
        this.errorColumn = errorColumn;
        this.backendColumn = backendColumn;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Iterator<>() {
            private Iterator<Row> done = List.<Row>of().iterator();
            private long rowsBefore;

            @Override
            public boolean hasNext() {
                while (!done.hasNext() && rows.hasNext()) {
                    List<Row> batch = new ArrayList<>(batchSize);
                    while (batch.size() < batchSize && rows.hasNext()) {
                        batch.add(rows.next());
                    }
                    done = run(batch, rowsBefore).iterator();
                    rowsBefore += batch.size();
                }
                return done.hasNext();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return done.next();
            }
        };
    }

    /** The output rows of one batch; {@code first} is the batch's first row's index in the partition. */
    private List<Row> run(List<Row> batch, long first) {
        SharedModel<M> model = LacunaExecutor.model(inference.modelKey(), inference::load);
        RowOutcome[] outcomes = new RowOutcome[batch.size()];
        List<P> prepared = new ArrayList<>(batch.size());
        List<Integer> preparedRows = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Object input = batch.get(i).get(inputIndex);
            if (input == null) {
                outcomes[i] = RowOutcome.NULL_INPUT;
                continue;
            }
            try {
                prepared.add(inference.prepare(input));
                preparedRows.add(i);
            } catch (LacunaException e) {
                outcomes[i] = RowOutcome.failed(rowProblem(e));
            }
        }
        if (!prepared.isEmpty()) {
            List<RowOutcome> inferred = model.call(m -> inferIsolatingBadRows(m, prepared),
                    inference.modelIsThreadSafe());
            for (int k = 0; k < inferred.size(); k++) {
                outcomes[preparedRows.get(k)] = inferred.get(k);
            }
        }
        List<Row> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            RowOutcome outcome = outcomes[i];
            if (outcome.failed()) {
                if (policy == InvalidRowPolicy.ERROR) {
                    TaskContext task = TaskContext.get();
                    throw new LacunaException(ErrorCode.INVALID_ARGUMENT, "Lacuna " + inference.modelKey().kind(),
                            "row " + (first + i) + " of partition " + (task == null ? "?" : task.partitionId())
                                    + ": " + outcome.error() + " (handleInvalid=error; 'keep' reports it in the "
                                    + "error column instead)");
                }
                if (policy == InvalidRowPolicy.SKIP) {
                    continue;
                }
            }
            out.add(withOutputs(batch.get(i), outcome, model.backendName()));
        }
        return out;
    }

    private List<RowOutcome> inferIsolatingBadRows(M model, List<P> batch) {
        try {
            return inference.infer(model, batch);
        } catch (LacunaException e) {
            if (!isAboutTheRow(e)) {
                throw e;
            }
            if (batch.size() == 1) {
                return List.of(RowOutcome.failed(rowProblem(e)));
            }
        }
        List<RowOutcome> outcomes = new ArrayList<>(batch.size());
        for (P item : batch) {
            outcomes.add(inferIsolatingBadRows(model, List.of(item)).get(0));
        }
        return outcomes;
    }

    private Row withOutputs(Row row, RowOutcome outcome, String backend) {
        int width = row.length();
        Object[] values = new Object[width + 1 + (errorColumn ? 1 : 0) + (backendColumn ? 1 : 0)];
        for (int i = 0; i < width; i++) {
            values[i] = row.get(i);
        }
        int at = width;
        values[at++] = outcome.value();
        if (errorColumn) {
            values[at++] = outcome.error();
        }
        if (backendColumn) {
            values[at] = backend;
        }
        return RowFactory.create(values);
    }

    /** The problem as the error column shows it: the exception's message, which names the call and the cause. */
    private static String rowProblem(LacunaException e) {
        if (!isAboutTheRow(e)) {
            throw e;
        }
        return e.getMessage();
    }

    /** Whether an exception is about one row's data (it fails the row) rather than the executor (it fails the task). */
    static boolean isAboutTheRow(LacunaException e) {
        return switch (e.code()) {
            case INVALID_ARGUMENT, SHAPE_MISMATCH, DTYPE_MISMATCH, NOT_SUPPORTED, MALFORMED_INPUT, OUT_OF_MEMORY ->
                    true;
            default -> false;
        };
    }
}
