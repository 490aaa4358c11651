package org.lacuna.spark;

import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What Lacuna's Spark ML transformers share: the input, output, error and backend columns, the batch size, what to
 * do with a bad row ({@code handleInvalid}) and the backend; and {@link #transform}, which runs each partition through
 * the model that its executor JVM holds ({@link LacunaExecutor}), {@code batchSize} rows at a time.
 *
 * @param <T> the transformer itself, so that setters chain
 */
public abstract class LacunaTransformer<T extends LacunaTransformer<T>> extends Transformer
        implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private static final String[] BACKENDS = {"auto", "cpu", "cuda"};

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> errorCol;
    private final Param<String> backendCol;
    private final IntParam batchSize;
    private final Param<String> handleInvalid;
    private final Param<String> backend;

    protected LacunaTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "input column name");
        outputCol = new Param<>(this, "outputCol", "output column name");
        errorCol = new Param<>(this, "errorCol", "column naming the problem of each row that failed (null for "
                + "rows that did not); empty for none");
        backendCol = new Param<>(this, "backendCol", "column with the Lacuna backend (cpu, cuda) that computed "
                + "each row; empty for none");
        batchSize = new IntParam(this, "batchSize", "rows per model call within a partition",
                ParamValidators.gtEq(1));
        handleInvalid = new Param<>(this, "handleInvalid", "what to do with a row the model cannot process: "
                + "keep (null output, the problem in errorCol), error (fail the task) or skip (drop the row)",
                ParamValidators.inArray(InvalidRowPolicy.NAMES));
        backend = new Param<>(this, "backend", "Lacuna backend on the executors: auto (CUDA where the "
                + "executor has a GPU, else CPU), cpu or cuda", ParamValidators.inArray(BACKENDS));
        setDefault(errorCol, "lacuna_error");
        setDefault(backendCol, "");
        setDefault(batchSize, 32);
        setDefault(handleInvalid, "keep");
        setDefault(backend, "auto");
    }

    /** How one executor loads the model and runs rows of an input column of type {@code inputType}. */
    abstract RowInference<?, ?> inference(DataType inputType);

    /** Whether the input column may have type {@code type}, and if not, what it should be. */
    abstract String checkInputType(DataType type);

    abstract DataType outputType();

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        int index = dataset.schema().fieldIndex(getInputCol());
        PartitionInference<?, ?> partition = new PartitionInference<>(
                inference(dataset.schema().fields()[index].dataType()), index, getBatchSize(),
                InvalidRowPolicy.of(getHandleInvalid()), !getErrorCol().isEmpty(), !getBackendCol().isEmpty());
        return dataset.toDF().mapPartitions(partition, Encoders.row(out));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        if (!isDefined(inputCol) || !isDefined(outputCol)) {
            throw new IllegalArgumentException(uid + ": set inputCol and outputCol");
        }
        if (!Arrays.asList(schema.fieldNames()).contains(getInputCol())) {
            throw new IllegalArgumentException(uid + ": no input column '" + getInputCol() + "' in "
                    + schema.simpleString());
        }
        String problem = checkInputType(schema.apply(getInputCol()).dataType());
        if (problem != null) {
            throw new IllegalArgumentException(uid + ": input column '" + getInputCol() + "' " + problem);
        }
        StructType out = addColumn(schema, getOutputCol(), outputType());
        if (!getErrorCol().isEmpty()) {
            out = addColumn(out, getErrorCol(), DataTypes.StringType);
        }
        if (!getBackendCol().isEmpty()) {
            out = addColumn(out, getBackendCol(), DataTypes.StringType);
        }
        return out;
    }

    private StructType addColumn(StructType schema, String name, DataType type) {
        if (Arrays.stream(schema.fieldNames()).anyMatch(f -> f.toLowerCase(Locale.ROOT)
                .equals(name.toLowerCase(Locale.ROOT)))) {
            throw new IllegalArgumentException(uid + ": output column '" + name + "' already exists");
        }
        return schema.add(name, type, true);
    }

    @Override
    public T copy(ParamMap extra) {
        return self(defaultCopy(extra));
    }

    @Override
    public String uid() {
        return uid;
    }

    @SuppressWarnings("unchecked")
    private T self(Object transformer) {
        return (T) transformer;
    }

    final T self() {
        return self(this);
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> errorCol() {
        return errorCol;
    }

    public Param<String> backendCol() {
        return backendCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> handleInvalid() {
        return handleInvalid;
    }

    public Param<String> backend() {
        return backend;
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public String getErrorCol() {
        return getOrDefault(errorCol);
    }

    public String getBackendCol() {
        return getOrDefault(backendCol);
    }

    public int getBatchSize() {
        return (Integer) getOrDefault(batchSize);
    }

    public String getHandleInvalid() {
        return getOrDefault(handleInvalid);
    }

    public String getBackend() {
        return getOrDefault(backend);
    }

    public T setInputCol(String value) {
        set(inputCol, value);
        return self();
    }

    public T setOutputCol(String value) {
        set(outputCol, value);
        return self();
    }

    /** The column for each failed row's problem; empty for none. Default {@code lacuna_error}. */
    public T setErrorCol(String value) {
        set(errorCol, value);
        return self();
    }

    /** A column with the backend ({@code cpu}, {@code cuda}) that computed each row; empty (the default) for none. */
    public T setBackendCol(String value) {
        set(backendCol, value);
        return self();
    }

    /** Rows per model call within a partition. Default 32. */
    public T setBatchSize(int value) {
        set(batchSize, value);
        return self();
    }

    /** {@code keep} (default), {@code error} or {@code skip}. */
    public T setHandleInvalid(String value) {
        set(handleInvalid, value);
        return self();
    }

    /** {@code auto} (default), {@code cpu} or {@code cuda}. */
    public T setBackend(String value) {
        set(backend, value);
        return self();
    }
}
