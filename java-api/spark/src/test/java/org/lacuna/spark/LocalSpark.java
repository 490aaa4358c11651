package org.lacuna.spark;

import org.apache.spark.sql.SparkSession;

/**
 * The tests' Spark: local mode with two task threads, no UI, and Lacuna's executor plugin. One session for every
 * test class of the run (Spark stops it at JVM exit), so the suite pays Spark's start-up once.
 */
public final class LocalSpark {
    private LocalSpark() {
    }

    public static synchronized SparkSession shared() {
        return SparkSession.builder()
                .master("local[2]")
                .appName("lacuna-spark-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                // Keep repartition(n) at n partitions: the tests place rows in several partitions on purpose.
                .config("spark.sql.adaptive.enabled", "false")
                .config("spark.sql.shuffle.partitions", "3")
                .config("spark.plugins", LacunaSparkPlugin.class.getName())
                .getOrCreate();
    }
}
