package org.lacuna.runtime.sparseconv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.lacuna.runtime.cpu.CpuVoxelizer;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;

/** The real KITTI sweep from {@code ../shared/data} for the runtime's tests; a test using it is skipped where absent. */
public final class KittiSweep {
    private KittiSweep() {
    }

    /** The repository root is the parent of this module's folder; the data lies beside the repository. */
    public static final Path SWEEP = Path.of("").toAbsolutePath().getParent().getParent()
            .resolve("shared/data/kitti-velodyne-000001.bin");

    /** The sweep's raw float32 (x, y, z, reflectance) records; the API's reader lives in java-api. */
    public static PointCloud readSweep() {
        Assumptions.assumeTrue(Files.isRegularFile(SWEEP), "the real KITTI sweep is not at " + SWEEP
                + " (../shared/data beside the repository); skipping the real-data checks");
        ByteBuffer bytes = ByteBuffer.wrap(readAll()).order(ByteOrder.LITTLE_ENDIAN);
        int n = bytes.remaining() / 16;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = bytes.getFloat();
            y[i] = bytes.getFloat();
            z[i] = bytes.getFloat();
            bytes.getFloat();
        }
        return PointCloud.of(x, y, z);
    }

    public static CoordinateSet voxels(double size) {
        VoxelizedCloud v = new CpuVoxelizer().voxelize(readSweep(), Voxelization.cubic(size, VoxelReduction.MEAN));
        return CoordinateSet.ofKeys(v.keys(), v.tensorStride());
    }

    private static byte[] readAll() {
        try {
            return Files.readAllBytes(SWEEP);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
