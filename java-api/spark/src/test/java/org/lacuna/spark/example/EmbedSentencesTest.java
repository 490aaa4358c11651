package org.lacuna.spark.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.spark.LocalSpark;

/** The README's example runs as written, in local mode, on a small text file. */
class EmbedSentencesTest {
    @Test
    void writesOneEmbeddingPerLine(@TempDir Path dir) throws Exception {
        assumeTrue(SentenceEmbedder.bundledAvailable(), "needs all-MiniLM-L6-v2 on the test class path");
        Path input = dir.resolve("sentences.txt");
        Files.write(input, List.of("Spark runs the tasks.", "", "Lacuna runs the model once per executor.",
                "Each executor loads it once."));
        SparkSession spark = LocalSpark.shared();
        long rows = EmbedSentences.run(spark, input.toString(), dir.resolve("out").toString());
        assertEquals(3, rows, "one row per non-blank line");
        for (Row row : spark.read().parquet(dir.resolve("out").toString()).collectAsList()) {
            assertEquals(384, row.getList(row.fieldIndex("embedding")).size());
            assertTrue(row.isNullAt(row.fieldIndex("lacuna_error")));
            assertTrue(List.of("cpu", "cuda").contains(row.getString(row.fieldIndex("backend"))));
        }
    }
}
