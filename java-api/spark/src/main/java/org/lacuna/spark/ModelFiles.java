package org.lacuna.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.lacuna.runtime.error.MalformedInputException;
import scala.Tuple2;

/**
 * Model files named by a local path or any URI Hadoop can read ({@code hdfs:}, {@code s3a:}, {@code abfs:},
 * {@code gs:} ...): local ones are used in place, the others copied once per executor JVM into a temporary folder
 * (deleted when the JVM exits), because the ONNX reader and the tokenizer read local files.
 */
final class ModelFiles {
    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    private ModelFiles() {
    }

    /**
     * The local file for {@code location}: a plain path, a {@code file:} URI, or a copy of a remote file (with
     * whichever of {@code siblings} exist beside it, copied once per JVM).
     */
    static Path local(String location, String... siblings) {
        URI uri = parse(location);
        if (uri == null) {
            return Path.of(location);
        }
        if ("file".equals(uri.getScheme())) {
            return Path.of(uri);
        }
        return COPIES.computeIfAbsent(location, l -> copyToLocal(l, siblings));
    }

    /**
     * The local copy of the file at {@code location}, with whichever of {@code siblings} exist beside it copied
     * into the same folder (a model's {@code tokenizer.json}, say).
     */
    static Path copyToLocal(String location, String... siblings) {
        try {
            org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(location);
            FileSystem fs = source.getFileSystem(hadoopConfiguration());
            Path dir = Files.createTempDirectory("lacuna-model-");
            dir.toFile().deleteOnExit();
            Path copy = copy(fs, source, dir);
            for (String sibling : siblings) {
                org.apache.hadoop.fs.Path beside = new org.apache.hadoop.fs.Path(source.getParent(), sibling);
                if (fs.exists(beside)) {
                    copy(fs, beside, dir);
                }
            }
            return copy;
        } catch (IOException | IllegalArgumentException e) {
            throw new MalformedInputException(location, "cannot copy the model file to the executor: " + e, e);
        }
    }

    private static Path copy(FileSystem fs, org.apache.hadoop.fs.Path source, Path dir) throws IOException {
        Path target = dir.resolve(source.getName());
        try (InputStream in = fs.open(source)) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        target.toFile().deleteOnExit();
        return target;
    }

    /**
     * Reads a whole file named by a local path or a Hadoop URI (scans named in a column).
     *
     * @throws MalformedInputException naming the file if it cannot be read
     */
    static byte[] readAll(String location) {
        URI uri = parse(location);
        try {
            if (uri == null) {
                return Files.readAllBytes(Path.of(location));
            }
            if ("file".equals(uri.getScheme())) {
                return Files.readAllBytes(Path.of(uri));
            }
            org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(location);
            try (InputStream in = source.getFileSystem(hadoopConfiguration()).open(source)) {
                return in.readAllBytes();
            }
        } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
            throw new MalformedInputException(location, "no such file");
        } catch (IOException | IllegalArgumentException e) {
            throw new MalformedInputException(location, "cannot read: " + e, e);
        }
    }

    /** A URI with a scheme of two or more letters, or null for a plain path (Windows drive letters included). */
    private static URI parse(String location) {
        try {
            URI uri = new URI(location);
            return uri.getScheme() != null && uri.getScheme().length() > 1 ? uri : null;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /**
     * Hadoop's configuration as Spark gives it to executors: the defaults on the class path plus every
     * {@code spark.hadoop.*} setting of the application.
     */
    static Configuration hadoopConfiguration() {
        Configuration conf = new Configuration();
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            for (Tuple2<String, String> entry : env.conf().getAllWithPrefix("spark.hadoop.")) {
                conf.set(entry._1(), entry._2());
            }
        }
        return conf;
    }
}
