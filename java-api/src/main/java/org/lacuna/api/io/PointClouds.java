package org.lacuna.api.io;

import java.nio.file.Path;
import java.util.Locale;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * Reads a point cloud with the reader its file extension names: {@code .bin} (KITTI velodyne), {@code .pcd},
 * {@code .ply}, {@code .npy}, {@code .npz}, in any letter case. A file that reads as a cloud without points is an
 * error here too (every reader's result feeds a voxeliser, which has nothing to do with none).
 */
public final class PointClouds {
    /** The formats by the extension that names them, for messages. */
    public static final String KNOWN_FORMATS = ".bin (KITTI velodyne), .pcd, .ply, .npy, .npz";

    private PointClouds() {
    }

    /** @throws MalformedInputException naming the file, if it is missing, empty, malformed, truncated or of no known kind */
    public static PointCloud read(Path path) {
        if (path == null) {
            throw new MalformedInputException("PointClouds.read", "no path given");
        }
        String source = path.toString();
        String extension = extensionOf(path.getFileName() == null ? "" : path.getFileName().toString());
        Format format = Format.of(extension);
        if (format == null) {
            throw unknown(source, extension);
        }
        return nonEmpty(source, format.read(source, Sources.readAll(path)));
    }

    /**
     * A cloud in memory (a message body, an object-store blob, a Spark {@code binaryFiles} record).
     *
     * @param fileNameOrFormat a file name whose extension names the format ({@code "000001.bin"}), or the format
     *                         alone ({@code "bin"}, {@code ".pcd"}); errors name the source by it
     * @throws MalformedInputException naming {@code fileNameOrFormat}, if the bytes are empty, malformed, truncated
     *                                 or of no known kind
     */
    public static PointCloud read(byte[] bytes, String fileNameOrFormat) {
        if (fileNameOrFormat == null || fileNameOrFormat.isBlank()) {
            throw new MalformedInputException("PointClouds.read", "no file name or format given; known: "
                    + KNOWN_FORMATS);
        }
        String source = fileNameOrFormat;
        if (bytes == null) {
            throw new MalformedInputException(source, "no bytes given (null)");
        }
        Format format = Format.of(extensionOf(fileNameOrFormat));
        if (format == null) {
            format = Format.of("." + fileNameOrFormat.toLowerCase(Locale.ROOT));
        }
        if (format == null) {
            throw unknown(source, extensionOf(fileNameOrFormat));
        }
        return nonEmpty(source, format.read(source, bytes));
    }

    private enum Format {
        KITTI_BIN, PCD, PLY, NPY, NPZ;

        static Format of(String extension) {
            return switch (extension) {
                case ".bin" -> KITTI_BIN;
                case ".pcd" -> PCD;
                case ".ply" -> PLY;
                case ".npy" -> NPY;
                case ".npz" -> NPZ;
                default -> null;
            };
        }

        PointCloud read(String source, byte[] bytes) {
            return switch (this) {
                case KITTI_BIN -> KittiBinReader.read(source, bytes);
                case PCD -> PcdReader.read(source, bytes);
                case PLY -> PlyReader.read(source, bytes);
                case NPY -> NpyReader.readPointCloud(source, bytes, false);
                case NPZ -> NpyReader.readPointCloud(source, bytes, true);
            };
        }
    }

    private static String extensionOf(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        int dot = lower.lastIndexOf('.');
        return dot < 0 ? "" : lower.substring(dot);
    }

    private static PointCloud nonEmpty(String source, PointCloud cloud) {
        if (cloud.isEmpty()) {
            throw new MalformedInputException(source, "holds no points: there is nothing to voxelise or segment");
        }
        return cloud;
    }

    private static MalformedInputException unknown(String source, String extension) {
        return new MalformedInputException(source, "has no point-cloud extension ("
                + (extension.isEmpty() ? "none" : "'" + extension + "'") + "); known: " + KNOWN_FORMATS);
    }
}
