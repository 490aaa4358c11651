package org.lacuna.api.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * KITTI velodyne scans ({@code .bin}): little-endian float32 records (x, y, z, reflectance), 16 bytes a point, no
 * header. The reflectance becomes the channel {@code reflectance}.
 */
public final class KittiBinReader {
    public static final int BYTES_PER_POINT = 16;
    public static final String REFLECTANCE = "reflectance";

    private KittiBinReader() {
    }

    public static PointCloud read(Path path) {
        return read(path.toString(), Sources.readAll(path));
    }

    /**
     * A scan already in memory; {@code source} names it in errors.
     *
     * @throws MalformedInputException if the bytes are empty or not whole 16-byte records
     */
    public static PointCloud read(String source, byte[] bytes) {
        if (bytes.length == 0) {
            throw new MalformedInputException(source, "is empty (0 bytes): a KITTI velodyne scan holds at least one"
                    + " point of " + BYTES_PER_POINT + " bytes (x, y, z, reflectance as float32)");
        }
        if (bytes.length % BYTES_PER_POINT != 0) {
            throw new MalformedInputException(source, "is " + Sources.count(bytes.length) + " bytes, not a"
                    + " multiple of " + BYTES_PER_POINT + ": a KITTI velodyne scan is headerless float32 records (x, y,"
                    + " z, reflectance) of " + BYTES_PER_POINT + " bytes (" + Sources.count(bytes.length
                    / BYTES_PER_POINT) + " whole points and " + bytes.length % BYTES_PER_POINT + " bytes left over;"
                    + " truncated?)");
        }
        int n = bytes.length / BYTES_PER_POINT;
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[] reflectance = new float[n];
        for (int i = 0; i < n; i++) {
            int at = i * BYTES_PER_POINT;
            x[i] = buffer.getFloat(at);
            y[i] = buffer.getFloat(at + 4);
            z[i] = buffer.getFloat(at + 8);
            reflectance[i] = buffer.getFloat(at + 12);
        }
        return PointCloud.of(x, y, z, List.of(REFLECTANCE), new float[][] {reflectance});
    }
}
