package org.lacuna.api.io;

import java.nio.file.Path;
import java.util.Locale;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/** Reads a point cloud with the reader its file extension names. */
public final class PointClouds {
    private PointClouds() {
    }

    /**
     * {@code .bin} (KITTI velodyne), {@code .pcd}, {@code .ply}, {@code .npy}, {@code .npz}, in any letter case.
     *
     * @throws MalformedInputException naming the file, if it is missing, malformed, truncated or of no known kind
     */
    public static PointCloud read(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        String extension = dot < 0 ? "" : name.substring(dot);
        return switch (extension) {
            case ".bin" -> KittiBinReader.read(path);
            case ".pcd" -> PcdReader.read(path);
            case ".ply" -> PlyReader.read(path);
            case ".npy", ".npz" -> NpyReader.readPointCloud(path);
            default -> throw new MalformedInputException(path.toString(), "has no point-cloud extension ("
                    + (extension.isEmpty() ? "none" : "'" + extension + "'") + "); known: .bin (KITTI velodyne),"
                    + " .pcd, .ply, .npy, .npz");
        };
    }
}
