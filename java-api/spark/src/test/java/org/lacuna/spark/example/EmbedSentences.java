package org.lacuna.spark.example;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.lacuna.spark.LacunaExecutor;
import org.lacuna.spark.SentenceEmbeddingTransformer;

/**
 * The README's example: embed a text file's lines (any path Spark reads: local, hdfs:, s3a:...) with the bundled
 * all-MiniLM-L6-v2 and write them, with the backend that computed each and any row's problem, as Parquet.
 *
 * <pre>
 * spark-submit --class org.lacuna.spark.example.EmbedSentences lacuna-spark-cluster.jar sentences.txt embeddings
 * </pre>
 */
public final class EmbedSentences {
    private EmbedSentences() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: EmbedSentences <text file> <output folder>");
            System.exit(1);
        }
        SparkSession spark = SparkSession.builder().appName("lacuna-embed-sentences").getOrCreate();
        try {
            run(spark, args[0], args[1]);
        } finally {
            spark.stop();
        }
    }

    /** Embeds every non-blank line of {@code input} into Parquet at {@code output}; returns the rows written. */
    public static long run(SparkSession spark, String input, String output) {
        Dataset<Row> sentences = spark.read().text(input).withColumnRenamed("value", "text")
                .filter("trim(text) <> ''");
        SentenceEmbeddingTransformer embed = new SentenceEmbeddingTransformer()
                .setInputCol("text")
                .setOutputCol("embedding")      // array<float>, 384 values for all-MiniLM-L6-v2
                .setBatchSize(64)               // texts per model call within a partition
                .setBackendCol("backend")       // "cuda" or "cpu": what each executor ran on
                .setHandleInvalid("keep");      // over-long texts: null embedding, reason in lacuna_error
        embed.transform(sentences).write().mode("overwrite").parquet(output);

        Dataset<Row> written = spark.read().parquet(output);
        written.groupBy("backend").count().show();
        written.filter("lacuna_error IS NOT NULL").select("text", "lacuna_error").show(5, 80);
        System.out.println("models loaded by this JVM: " + LacunaExecutor.modelLoads()
                + ", backends: " + LacunaExecutor.backends());
        return written.count();
    }
}
