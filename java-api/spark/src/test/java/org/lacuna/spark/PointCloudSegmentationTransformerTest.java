package org.lacuna.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
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
import org.lacuna.api.io.NpyWriter;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.pointcloud.Segmenter;
import org.lacuna.api.pointcloud.SegmenterOptions;

/**
 * The segmentation transformer in local mode with two task threads on the real KITTI sweep: several copies and
 * crops of it (each crop a valid KITTI file of its own), a truncated copy, an empty one and a null row, as bytes and
 * as paths in four formats. Every good row's labels equal the single-machine {@link Segmenter}'s for the same scan;
 * every bad row has null labels and an error naming its problem; one model load for the JVM.
 */
class PointCloudSegmentationTransformerTest {
    /** The repository root is two folders up from this module; the shared data lies beside the repository. */
    static final Path SWEEP = Path.of("").toAbsolutePath().getParent().getParent().getParent()
            .resolve("shared/data/kitti-velodyne-000001.bin");
    /** 20 cm voxels keep the full-width network's work small enough for CI (5 cm is the default). */
    private static final double VOXEL = 0.2;
    private static final int POINT_BYTES = 16;
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.IntegerType, false)
            .add("scan", DataTypes.BinaryType, true);

    private static SparkSession spark;
    private static Session session;
    private static Segmenter single;
    private static byte[] sweep;
    private static Dataset<Row> scans;
    private static Map<Integer, byte[]> good;

    @BeforeAll
    static void start() throws IOException {
        assumeTrue(Files.isRegularFile(SWEEP), "the real KITTI sweep is not at " + SWEEP);
        sweep = Files.readAllBytes(SWEEP);
        session = Lacuna.open("cpu", 0);
        single = Segmenter.open(session, options());
        spark = LocalSpark.shared();
        good = new HashMap<>();
        good.put(0, sweep);
        good.put(1, crop(0, 20_000));
        good.put(2, crop(20_000, 50_000));
        good.put(5, sweep.clone());
        List<Row> rows = new ArrayList<>();
        rows.add(RowFactory.create(0, good.get(0)));
        rows.add(RowFactory.create(1, good.get(1)));
        rows.add(RowFactory.create(2, good.get(2)));
        rows.add(RowFactory.create(3, Arrays.copyOf(sweep, sweep.length - 7))); // cut mid-point
        rows.add(RowFactory.create(4, new byte[0]));
        rows.add(RowFactory.create(5, good.get(5)));
        rows.add(RowFactory.create(6, null));
        scans = spark.createDataFrame(rows, SCHEMA).repartition(2).cache();
    }

    @AfterAll
    static void stop() {
        if (scans != null) {
            scans.unpersist();
        }
        if (session != null) {
            single.close();
            session.close();
        }
    }

    private static SegmenterOptions options() {
        return SegmenterOptions.defaults().withVoxelSize(VOXEL).withRandomWeights(7).withLayerTimes(false);
    }

    private static PointCloudSegmentationTransformer segmenter() {
        return new PointCloudSegmentationTransformer().setInputCol("scan").setOutputCol("labels")
                .setVoxelSize(VOXEL).setSeed(7).setBackend("cpu").setBatchSize(2);
    }

    /** Points {@code from} to {@code to} of the sweep: a KITTI file of its own. */
    private static byte[] crop(int from, int to) {
        return Arrays.copyOfRange(sweep, from * POINT_BYTES, to * POINT_BYTES);
    }

    private static int[] expected(byte[] scan, String format) {
        return single.segment(PointClouds.read(scan, format)).labels();
    }

    @Test
    void scanBytesGiveTheSingleMachineLabelsAndCorruptScansTheirProblem() {
        List<Row> out = segmenter().setBackendCol("backend").transform(scans).collectAsList();
        assertEquals(7, out.size(), "one output row per input row");
        for (Row row : out) {
            int id = row.getInt(0);
            String error = row.getString(row.fieldIndex("lacuna_error"));
            assertEquals("cpu", row.getString(row.fieldIndex("backend")));
            if (good.containsKey(id)) {
                assertNull(error, () -> "scan " + id + ": " + error);
                int[] labels = ints(row.getList(row.fieldIndex("labels")));
                assertEquals(good.get(id).length / POINT_BYTES, labels.length, "a label per point");
                assertArrayEquals(expected(good.get(id), "bin"), labels, "scan " + id);
            } else {
                assertTrue(row.isNullAt(row.fieldIndex("labels")), "scan " + id + ": null labels");
            }
        }
        assertTrue(error(out, 3).contains("not a multiple of 16"), error(out, 3));
        assertTrue(error(out, 4).contains("is empty (0 bytes)"), error(out, 4));
        assertNull(error(out, 6), "a null scan is not an error");
        assertEquals(1, LacunaExecutor.modelLoads(key(segmenter())), "one model load for the JVM");
    }

    @Test
    void pathsInEveryFormatAreReadByTheirExtension(@TempDir Path dir) throws IOException {
        byte[] scan = good.get(1);
        Path bin = dir.resolve("crop.bin");
        Files.write(bin, scan);
        Path npy = dir.resolve("crop.npy");
        try (OutputStream out = Files.newOutputStream(npy)) {
            NpyWriter.writeFloat32(out, pointRows(scan));
        }
        Path corrupt = dir.resolve("broken.pcd");
        Files.writeString(corrupt, "# .PCD v0.7\nVERSION 0.7\nFIELDS x y\n");
        StructType schema = new StructType().add("path", DataTypes.StringType, true);
        List<Row> rows = List.of(RowFactory.create(bin.toString()), RowFactory.create(npy.toUri().toString()),
                RowFactory.create(corrupt.toString()), RowFactory.create(dir.resolve("missing.bin").toString()));
        Map<String, Row> out = new HashMap<>();
        for (Row row : segmenter().setInputCol("path").transform(spark.createDataFrame(rows, schema))
                .collectAsList()) {
            out.put(row.getString(0), row);
        }
        int[] want = expected(scan, "bin");
        assertArrayEquals(want, ints(out.get(bin.toString()).getList(1)), ".bin by path");
        assertArrayEquals(want, ints(out.get(npy.toUri().toString()).getList(1)), ".npy by file: URI");
        Row broken = out.get(corrupt.toString());
        assertTrue(broken.isNullAt(1));
        assertTrue(broken.getString(2).contains("broken.pcd"), broken.getString(2));
        Row missing = out.get(dir.resolve("missing.bin").toString());
        assertTrue(missing.isNullAt(1));
        assertTrue(missing.getString(2).contains("missing.bin") && missing.getString(2).contains("no such file"),
                missing.getString(2));
        assertEquals(1, LacunaExecutor.modelLoads(key(segmenter())), "the same model as for bytes");
    }

    @Test
    void handleInvalidErrorFailsTheTaskNamingTheScan() {
        SparkException failure = assertThrows(SparkException.class,
                () -> segmenter().setHandleInvalid("error").transform(scans.filter("id IN (1, 3)")).collectAsList());
        assertTrue(failure.getMessage().contains("not a multiple of 16"), failure.getMessage());
    }

    @Test
    void aBinaryColumnMustBeBytesOrPaths() {
        StructType schema = new StructType().add("scan", DataTypes.IntegerType, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> segmenter().transformSchema(schema));
        assertTrue(e.getMessage().contains("bytes (binary) or paths (string), not int"), e.getMessage());
    }

    private static String error(List<Row> rows, int id) {
        return rows.stream().filter(r -> r.getInt(0) == id).findFirst().orElseThrow().getString(3);
    }

    private static ModelKey key(PointCloudSegmentationTransformer transformer) {
        return transformer.inference(DataTypes.BinaryType).modelKey();
    }

    private static float[][] pointRows(byte[] kitti) {
        ByteBuffer buffer = ByteBuffer.wrap(kitti).order(ByteOrder.LITTLE_ENDIAN);
        float[][] rows = new float[kitti.length / POINT_BYTES][4];
        for (float[] row : rows) {
            for (int c = 0; c < 4; c++) {
                row[c] = buffer.getFloat();
            }
        }
        return rows;
    }

    private static int[] ints(List<Object> values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Integer) values.get(i);
        }
        return out;
    }
}
