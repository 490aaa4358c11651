package org.lacuna.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.layers.TwoFourScope;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.api.text.SentenceEmbedder;

/**
 * The sentence-embedding transformer in Spark's local mode with two task threads, on real sentences: every row's
 * embedding equals, bit for bit, what the single-machine {@link SentenceEmbedder} gives for the same text; an
 * over-long text and a null text are handled per row; the model is loaded once for the JVM however many tasks and
 * jobs use it.
 */
class SentenceEmbeddingTransformerTest {
    private static final int SENTENCES = 24;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true);

    private static SparkSession spark;
    private static Session session;
    private static SentenceEmbedder single;
    private static List<String> sentences;
    private static List<List<Row>> partitions;
    private static Dataset<Row> input;
    private static int overLongId;
    private static int nullId;

    @BeforeAll
    static void start() {
        assumeTrue(RealSentences.available(), "needs the licence texts under " + RealSentences.LICENSES);
        assumeTrue(SentenceEmbedder.bundledAvailable(), "needs all-MiniLM-L6-v2 on the test class path");
        sentences = RealSentences.sentences(SENTENCES);
        session = Lacuna.open("cpu", 0);
        single = SentenceEmbedder.bundled(session, 0);
        spark = LocalSpark.shared();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i++) {
            rows.add(RowFactory.create(i, sentences.get(i)));
        }
        overLongId = rows.size();
        rows.add(RowFactory.create(overLongId, RealSentences.overLong()));
        nullId = rows.size();
        rows.add(RowFactory.create(nullId, null));
        // Three partitions over two task threads, rows of the bad and null kinds in the middle of one of them.
        input = spark.createDataFrame(rows, SCHEMA).repartition(3).cache();
        partitions = input.javaRDD().glom().collect();
        settle(single);
        try (SentenceEmbedder sparse = SentenceEmbedder.bundled(session, 0, SPARSE)) {
            settle(sparse);
        }
    }

    /** The sparsity the transformer's sparsity params ask for in {@link #sparsityParamsGiveWhatTheSingleMachineApiGivesWithTheSameSparsity}. */
    private static final EncoderSparsity SPARSE = EncoderSparsity.DENSE.withTwoFour(TwoFourScope.FFN)
            .withTokenDropping(0.5, 3);

    /**
     * Runs the single-machine API on the tests' batches until its scheduler's live trials have decided. While a
     * trial decides, a layer's calls are served by its candidates in turn (equal within the dtype's tolerance, not
     * bit for bit); once decided, the choices are in the JVM's store, which every session (the executors' too)
     * reads, so the executors' rows and the single-machine API's agree bit for bit. A choice measured while the JIT
     * compiled is re-tried once the JIT is quiet, which in a JVM running Spark beside the passes can take longer
     * than one {@code runUntilDecided} waits (3 s of wall time): it is asked again, for a minute at most.
     */
    private static void settle(SentenceEmbedder embedder) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        int passes = 0;
        do {
            passes += session.scheduler().runUntilDecided(() -> singleMachine(embedder, 5), 60);
        } while (session.scheduler().deciding() > 0 && System.nanoTime() < deadline);
        if (session.scheduler().deciding() > 0) {
            throw new AssertionError("the scheduler still decides after " + passes + " passes and a minute");
        }
    }

    @AfterAll
    static void stop() {
        if (input != null) {
            input.unpersist();
        }
        if (session != null) {
            single.close();
            session.close();
        }
    }

    /**
     * What the single-machine API gives for each text when it embeds the same batches the transformer does: each
     * partition's rows {@code batchSize} at a time, less the null and over-long texts. (The CPU backend's GEMM tiles
     * follow the batch's token count, so a text's embedding can differ in the last bits between batch compositions.)
     */
    private static Map<Integer, float[]> singleMachine(int batchSize) {
        return singleMachine(single, batchSize);
    }

    private static Map<Integer, float[]> singleMachine(SentenceEmbedder single, int batchSize) {
        Map<Integer, float[]> out = new HashMap<>();
        for (List<Row> partition : partitions) {
            for (int from = 0; from < partition.size(); from += batchSize) {
                List<Row> batch = partition.subList(from, Math.min(partition.size(), from + batchSize)).stream()
                        .filter(r -> !r.isNullAt(1) && r.getInt(0) != overLongId).toList();
                if (batch.isEmpty()) {
                    continue;
                }
                float[][] embeddings = single.embed(batch.stream().map(r -> r.getString(1)).toList(), batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    out.put(batch.get(i).getInt(0), embeddings[i]);
                }
            }
        }
        return out;
    }

    private static SentenceEmbeddingTransformer embedder() {
        return new SentenceEmbeddingTransformer().setInputCol("text").setOutputCol("embedding").setBackend("cpu")
                .setBatchSize(5);
    }

    @Test
    void everyRowEqualsTheSingleMachineApiAndBadRowsAreReported() {
        SentenceEmbeddingTransformer embedder = embedder().setBackendCol("backend");
        List<Row> out = embedder.transform(input).collectAsList();
        Map<Integer, float[]> expected = singleMachine(embedder.getBatchSize());
        assertEquals(sentences.size() + 2, out.size(), "one output row per input row");
        for (Row row : out) {
            int id = row.getInt(row.fieldIndex("id"));
            String error = row.getString(row.fieldIndex("lacuna_error"));
            assertEquals("cpu", row.getString(row.fieldIndex("backend")));
            if (id == overLongId) {
                assertTrue(row.isNullAt(row.fieldIndex("embedding")), "over-long text: null embedding");
                assertNotNull(error, "over-long text: the problem is reported");
                assertTrue(error.contains("longer than the model's 128 tokens"), error);
            } else if (id == nullId) {
                assertTrue(row.isNullAt(row.fieldIndex("embedding")));
                assertNull(error, "a null text is not an error");
            } else {
                assertNull(error, () -> "row " + id + ": " + error);
                assertArrayEquals(expected.get(id), floats(row.getList(row.fieldIndex("embedding"))), "row " + id);
            }
        }
        assertEquals(1, LacunaExecutor.modelLoads(inference(embedder)), "one model load for the JVM");
    }

    @Test
    void sparsityParamsGiveWhatTheSingleMachineApiGivesWithTheSameSparsity() {
        SentenceEmbeddingTransformer embedder = embedder().setPrune("ffn").setKeepRatio(0.5).setFromLayer(3);
        List<Row> out = embedder.transform(input).collectAsList();
        Map<Integer, float[]> expected;
        Map<Integer, float[]> dense = singleMachine(embedder.getBatchSize());
        try (SentenceEmbedder sparse = SentenceEmbedder.bundled(session, 0, SPARSE)) {
            expected = singleMachine(sparse, embedder.getBatchSize());
        }
        int compared = 0;
        for (Row row : out) {
            int id = row.getInt(row.fieldIndex("id"));
            if (expected.containsKey(id)) {
                float[] got = floats(row.getList(row.fieldIndex("embedding")));
                assertArrayEquals(expected.get(id), got, "row " + id);
                assertTrue(!java.util.Arrays.equals(dense.get(id), got), "row " + id + " ran sparse, not dense");
                compared++;
            }
        }
        assertEquals(expected.size(), compared);
        assertThrows(IllegalArgumentException.class, () -> embedder().setPrune("half"));
        assertThrows(IllegalArgumentException.class, () -> embedder().setKeepRatio(0));
        SparkException tooDeep = assertThrows(SparkException.class,
                () -> embedder().setKeepRatio(0.5).setFromLayer(6).setHandleInvalid("error").transform(input).count());
        assertTrue(String.valueOf(tooDeep.getMessage()).contains("layer 6"), tooDeep.getMessage());
    }

    @Test
    void theModelIsLoadedOncePerJvmAcrossJobsAndBatchSizes() {
        embedder().transform(input).count();
        embedder().setBatchSize(5).transform(input).collectAsList();
        embedder().setBatchSize(64).transform(input).collectAsList();
        assertEquals(1, LacunaExecutor.modelLoads(inference(embedder())));
    }

    @Test
    void handleInvalidErrorFailsTheJobNamingTheProblem() {
        SparkException failure = assertThrows(SparkException.class,
                () -> embedder().setHandleInvalid("error").transform(input).collectAsList());
        assertTrue(failure.getMessage().contains("longer than the model's 128 tokens"), failure.getMessage());
        // The executor survives: the next job on it runs.
        assertEquals(sentences.size() + 2, embedder().transform(input).count());
    }

    @Test
    void handleInvalidSkipDropsOnlyTheBadRow() {
        List<Row> out = embedder().setHandleInvalid("skip").setErrorCol("").transform(input).collectAsList();
        assertEquals(sentences.size() + 1, out.size(), "every row but the over-long one");
        assertTrue(out.stream().noneMatch(r -> r.getInt(0) == overLongId));
        assertEquals(List.of("id", "text", "embedding"), List.of(out.get(0).schema().fieldNames()));
    }

    @Test
    void truncateEmbedsTheBeginningOfAnOverLongText() {
        Row row = embedder().setTruncate(true).transform(input.filter("id = " + overLongId)).first();
        assertTrue(row.isNullAt(row.fieldIndex("lacuna_error")));
        float[] want = single.embed(List.of(RealSentences.overLong()), 1)[0];
        assertArrayEquals(want, floats(row.getList(row.fieldIndex("embedding"))));
    }

    @Test
    void aModelFileByUriInAPipelineSavedAndLoadedGivesTheSameEmbeddings(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        copyResource(SentenceEmbedder.BUNDLED_MODEL, model.resolve("minilm.onnx"));
        copyResource(SentenceEmbedder.BUNDLED_TOKENIZER, model.resolve("minilm-tokenizer.json"));
        SentenceEmbeddingTransformer fromFile = embedder()
                .setModelPath(model.resolve("minilm.onnx").toUri().toString());
        PipelineModel pipeline = new Pipeline().setStages(new PipelineStage[] {fromFile}).fit(input);
        pipeline.write().overwrite().save(dir.resolve("pipeline").toString());
        PipelineModel loaded = PipelineModel.load(dir.resolve("pipeline").toString());
        SentenceEmbeddingTransformer stage = (SentenceEmbeddingTransformer) loaded.stages()[0];
        assertEquals(fromFile.getModelPath(), stage.getModelPath());
        assertEquals(5, stage.getBatchSize());

        Map<Integer, float[]> expected = singleMachine(stage.getBatchSize());
        for (Row row : loaded.transform(input).collectAsList()) {
            int id = row.getInt(0);
            assertArrayEquals(expected.get(id), id == nullId || id == overLongId ? null
                    : floats(row.getList(row.fieldIndex("embedding"))), "row " + id);
        }
    }

    @Test
    void aRemoteModelIsCopiedToTheExecutorWithItsTokenizer(@TempDir Path dir) throws IOException {
        copyResource(SentenceEmbedder.BUNDLED_TOKENIZER, dir.resolve("m-tokenizer.json"));
        Files.writeString(dir.resolve("m.onnx"), "not really a model");
        // The same Hadoop FileSystem path an hdfs: or s3a: model takes, on a file: URI.
        Path copy = ModelFiles.copyToLocal(dir.resolve("m.onnx").toUri().toString(), "m-tokenizer.json");
        assertEquals("not really a model", Files.readString(copy));
        assertArrayEquals(Files.readAllBytes(dir.resolve("m-tokenizer.json")),
                Files.readAllBytes(copy.resolveSibling("m-tokenizer.json")));
    }

    @Test
    void schemaChecksNameTheColumn() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> embedder().setInputCol("sentence").transformSchema(SCHEMA));
        assertTrue(missing.getMessage().contains("no input column 'sentence'"), missing.getMessage());
        IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class,
                () -> embedder().setInputCol("id").transformSchema(SCHEMA));
        assertTrue(wrongType.getMessage().contains("must be a string column, not int"), wrongType.getMessage());
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                () -> embedder().setOutputCol("text").transformSchema(SCHEMA));
        assertTrue(taken.getMessage().contains("'text' already exists"), taken.getMessage());
    }

    static ModelKey inference(SentenceEmbeddingTransformer transformer) {
        return transformer.inference(DataTypes.StringType).modelKey();
    }

    static float[] floats(List<Object> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Float) values.get(i);
        }
        return out;
    }

    private static void copyResource(String name, Path target) throws IOException {
        try (InputStream in = SentenceEmbedder.class.getClassLoader().getResourceAsStream(name)) {
            Files.copy(in, target);
        }
    }
}
