package org.lacuna.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.text.SentenceEmbedder;

/**
 * Sentence embeddings through Spark against the library called directly, on the CPU backend: rows per second for
 * several row counts in {@code local[1]} and {@code local[2]}, and the Spark path's overhead over
 * {@link SentenceEmbedder#embed(List, int)} on the same rows with the same batch size, timed in the same JVM, the
 * two interleaved, median of {@code --reps}. Writes {@code spark-embed-<time>.json} and {@code .md} into the folder
 * given (default {@code bench/results}).
 *
 * <p>Run from the repository root after {@code ./mvnw -o -q test-compile -pl java-api/spark -am} with the class
 * path Maven prints ({@code dependency:build-classpath -Dmdep.includeScope=test}); see the record for the command.
 */
public final class SparkEmbeddingBenchmark {
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, false);

    private SparkEmbeddingBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        Path outDir = Path.of(args.length > 0 ? args[0] : "bench/results");
        int[] rowCounts = args.length > 1 ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {32, 128, 512};
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int batchSize = 32;
        List<String> pool = RealSentences.sentences(4096);
        if (pool.isEmpty()) {
            throw new IllegalStateException("no sentences under " + RealSentences.LICENSES);
        }

        List<Map<String, Object>> results = new ArrayList<>();
        String backendDevice;
        try (Session session = Lacuna.open("cpu", 0); SentenceEmbedder direct = SentenceEmbedder.bundled(session, 0)) {
            backendDevice = session.backendName() + " (" + session.device().name() + ")";
            direct.embed(pool.subList(0, Math.min(64, pool.size())), batchSize); // warm-up (JIT, tuning)
            for (String master : List.of("local[1]", "local[2]")) {
                SparkSession spark = SparkSession.builder().master(master).appName("lacuna-spark-bench")
                        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                        .config("spark.sql.adaptive.enabled", "false").getOrCreate();
                try {
                    int cores = master.equals("local[1]") ? 1 : 2;
                    SentenceEmbeddingTransformer transformer = new SentenceEmbeddingTransformer()
                            .setInputCol("text").setOutputCol("embedding").setBackend("cpu").setTruncate(true)
                            .setBatchSize(batchSize);
                    // Warm-up: loads the executor's model and compiles the Spark path.
                    run(transformer, frame(spark, cycle(pool, 64), cores));
                    for (int rows : rowCounts) {
                        List<String> texts = cycle(pool, rows);
                        Dataset<Row> frame = frame(spark, texts, cores);
                        double[] sparkSeconds = new double[reps];
                        double[] directSeconds = new double[reps];
                        for (int r = 0; r < reps; r++) {
                            sparkSeconds[r] = run(transformer, frame);
                            long start = System.nanoTime();
                            direct.embed(texts, batchSize);
                            directSeconds[r] = (System.nanoTime() - start) / 1e9;
                        }
                        double spark1 = median(sparkSeconds);
                        double direct1 = median(directSeconds);
                        Map<String, Object> result = new LinkedHashMap<>();
                        result.put("master", master);
                        result.put("partitions", cores);
                        result.put("rows", rows);
                        result.put("batchSize", batchSize);
                        result.put("sparkSecondsMedian", spark1);
                        result.put("directSecondsMedian", direct1);
                        result.put("sparkRowsPerSecond", rows / spark1);
                        result.put("directRowsPerSecond", rows / direct1);
                        result.put("sparkOverDirect", spark1 / direct1);
                        result.put("sparkSeconds", sparkSeconds);
                        result.put("directSeconds", directSeconds);
                        results.add(result);
                        System.out.printf(Locale.ROOT, "%s %5d rows: spark %.1f rows/s, direct %.1f rows/s, "
                                + "spark/direct time %.3f%n", master, rows, rows / spark1, rows / direct1,
                                spark1 / direct1);
                    }
                } finally {
                    spark.stop();
                }
            }
        }
        write(outDir, backendDevice, reps, results);
    }

    /** Runs the transformer over every row without collecting (Spark's no-op sink), in seconds. */
    private static double run(SentenceEmbeddingTransformer transformer, Dataset<Row> frame) {
        long start = System.nanoTime();
        transformer.transform(frame).write().format("noop").mode("overwrite").save();
        return (System.nanoTime() - start) / 1e9;
    }

    /** The texts as a cached frame of {@code partitions} partitions, materialised before timing. */
    private static Dataset<Row> frame(SparkSession spark, List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            rows.add(RowFactory.create(i, texts.get(i)));
        }
        Dataset<Row> frame = spark.createDataFrame(rows, SCHEMA).repartition(partitions).cache();
        frame.count();
        return frame;
    }

    private static List<String> cycle(List<String> pool, int count) {
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(pool.get(i % pool.size()));
        }
        return out;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static void write(Path dir, String backend, int reps, List<Map<String, Object>> results)
            throws IOException {
        Instant now = Instant.now();
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmm").withZone(ZoneOffset.UTC).format(now);
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("schema", "lacuna-spark-embed/1");
        record.put("recordedAt", now.toString());
        record.put("model", SentenceEmbedder.BUNDLED_NAME + " (bundled), max 128 tokens, truncate on");
        record.put("backend", backend);
        record.put("logicalCores", Runtime.getRuntime().availableProcessors());
        record.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        record.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
        record.put("repetitions", reps);
        record.put("statistic", "median of repetitions; Spark and direct runs interleaved in one JVM");
        record.put("sparkPath", "transform(frame).write.format(\"noop\") over a cached frame of as many partitions "
                + "as task threads");
        record.put("directPath", "SentenceEmbedder.embed(texts, batchSize) on one thread, same texts");
        record.put("results", results);
        Files.createDirectories(dir);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(dir.resolve("spark-embed-" + stamp + ".json").toFile(), record);

        StringBuilder md = new StringBuilder();
        md.append("# Spark sentence embeddings vs the library, CPU (").append(stamp).append(")\n\n");
        md.append("Model: ").append(record.get("model")).append("; backend ").append(backend).append("; Spark ")
                .append(record.get("spark")).append("; ").append(record.get("jvm")).append("; ")
                .append(record.get("logicalCores")).append(" logical cores.\n");
        md.append("Median of ").append(reps).append(" runs each, Spark and direct interleaved in one JVM. ")
                .append("Spark: ").append(record.get("sparkPath")).append(". Direct: ")
                .append(record.get("directPath")).append(".\n\n");
        md.append("| master | rows | Spark rows/s | direct rows/s | Spark time / direct time |\n");
        md.append("|---|---:|---:|---:|---:|\n");
        for (Map<String, Object> r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.3f |%n", r.get("master"),
                    (Integer) r.get("rows"), (Double) r.get("sparkRowsPerSecond"),
                    (Double) r.get("directRowsPerSecond"), (Double) r.get("sparkOverDirect")));
        }
        Files.writeString(dir.resolve("spark-embed-" + stamp + ".md"), md.toString());
    }
}
