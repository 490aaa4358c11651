package org.lacuna.spark;

import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.lacuna.api.pointcloud.SegmenterOptions;

/**
 * Scans to per-point class labels ({@code array<int>}, one per point in the scan's order, -1 for a point with a
 * non-finite coordinate) with Lacuna's MinkUNet ({@link org.lacuna.api.pointcloud.Segmenter}). The input column
 * holds either the scans' bytes ({@code binary}, in the {@link #setFormat format} given: KITTI {@code .bin} by
 * default, as Spark's {@code binaryFile} source reads them) or their paths ({@code string}: local paths or Hadoop
 * URIs, each read by its extension: {@code .bin}, {@code .pcd}, {@code .ply}, {@code .npy}, {@code .npz}).
 *
 * <pre>{@code
 * Dataset<Row> labelled = new PointCloudSegmentationTransformer()
 *         .setInputCol("content").setOutputCol("labels")
 *         .setWeightsPath("hdfs:///models/minkunet-semantickitti.safetensors")
 *         .transform(spark.read().format("binaryFile").load("hdfs:///scans/*.bin"));
 * }</pre>
 *
 * A corrupt or empty scan, or a path that cannot be read, gives null labels and the problem in the error column
 * (see {@link #setHandleInvalid}).
 */
public final class PointCloudSegmentationTransformer
        extends LacunaTransformer<PointCloudSegmentationTransformer> {
    private static final long serialVersionUID = 1L;
    private static final String[] FORMATS = {"bin", "pcd", "ply", "npy", "npz"};

    private final Param<String> weightsPath;
    private final LongParam seed;
    private final DoubleParam voxelSize;
    private final Param<String> format;

    public PointCloudSegmentationTransformer() {
        this(Identifiable.randomUID("lacunaPointCloudSegmentation"));
    }

    public PointCloudSegmentationTransformer(String uid) {
        super(uid);
        weightsPath = new Param<>(this, "weightsPath", "MinkUNet weights (safetensors in Lacuna's naming): a local "
                + "path or a Hadoop URI; empty for seeded random weights (labels of no meaning)");
        seed = new LongParam(this, "seed", "seed of the random weights (when weightsPath is empty)");
        voxelSize = new DoubleParam(this, "voxelSize", "edge of a cubic voxel in the scans' units (metres for "
                + "KITTI)", ParamValidators.gt(0));
        format = new Param<>(this, "format", "format of a binary input column: bin (KITTI velodyne), pcd, ply, "
                + "npy or npz", ParamValidators.inArray(FORMATS));
        setDefault(weightsPath, "");
        setDefault(seed, 0L);
        setDefault(voxelSize, SegmenterOptions.DEFAULT_VOXEL_SIZE);
        setDefault(format, "bin");
        // A scan is a large row: fewer per batch than texts.
        setDefault(batchSize(), 4);
    }

    public static MLReader<PointCloudSegmentationTransformer> read() {
        return new DefaultParamsReadable<PointCloudSegmentationTransformer>() {
        }.read();
    }

    public static PointCloudSegmentationTransformer load(String path) {
        return read().load(path);
    }

    @Override
    RowInference<?, ?> inference(DataType inputType) {
        return new SegmentationInference(getWeightsPath(), getSeed(), getVoxelSize(), getFormat(),
                inputType.equals(DataTypes.StringType), getBackend());
    }

    @Override
    String checkInputType(DataType type) {
        return type.equals(DataTypes.BinaryType) || type.equals(DataTypes.StringType) ? null
                : "must hold the scans' bytes (binary) or paths (string), not " + type.simpleString();
    }

    @Override
    DataType outputType() {
        return DataTypes.createArrayType(DataTypes.IntegerType, false);
    }

    public Param<String> weightsPath() {
        return weightsPath;
    }

    public LongParam seed() {
        return seed;
    }

    public DoubleParam voxelSize() {
        return voxelSize;
    }

    public Param<String> format() {
        return format;
    }

    public String getWeightsPath() {
        return getOrDefault(weightsPath);
    }

    public long getSeed() {
        return (Long) getOrDefault(seed);
    }

    public double getVoxelSize() {
        return (Double) getOrDefault(voxelSize);
    }

    public String getFormat() {
        return getOrDefault(format);
    }

    /** MinkUNet weights (safetensors): a local path or a Hadoop URI; empty (the default) for random weights. */
    public PointCloudSegmentationTransformer setWeightsPath(String value) {
        set(weightsPath, value);
        return this;
    }

    /** Seed of the random weights used when no weights path is set. Default 0. */
    public PointCloudSegmentationTransformer setSeed(long value) {
        set(seed, value);
        return this;
    }

    /** Cubic voxel edge in the scans' units. Default 0.05 (5 cm on KITTI). */
    public PointCloudSegmentationTransformer setVoxelSize(double value) {
        set(voxelSize, value);
        return this;
    }

    /** Format of a binary input column: {@code bin} (default), {@code pcd}, {@code ply}, {@code npy}, {@code npz}. */
    public PointCloudSegmentationTransformer setFormat(String value) {
        set(format, value);
        return this;
    }
}
