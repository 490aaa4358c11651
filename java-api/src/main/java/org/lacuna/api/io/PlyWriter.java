package org.lacuna.api.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * Writes a labelled point cloud as a binary little-endian PLY: per vertex x, y, z (float), red, green, blue
 * (uchar, the label's colour) and label (int), which viewers such as CloudCompare and MeshLab colour by and
 * {@link PlyReader} reads back (the colours and the label as channels).
 */
public final class PlyWriter {
    private static final int BYTES_PER_VERTEX = 3 * 4 + 3 + 4;

    private PlyWriter() {
    }

    /**
     * @param labels  one per point; a label outside [0, colours) (such as -1 for an unlabelled point) is grey
     * @param colours packed 0xRRGGBB per label
     */
    public static void writeLabelled(OutputStream out, PointCloud cloud, int[] labels, int[] colours)
            throws IOException {
        if (labels.length != cloud.size()) {
            throw InvalidInputException.shape("PlyWriter.writeLabelled", labels.length + " labels for "
                    + cloud.size() + " points");
        }
        String header = "ply\nformat binary_little_endian 1.0\ncomment written by Lacuna: points coloured by label\n"
                + "element vertex " + cloud.size() + "\nproperty float x\nproperty float y\nproperty float z\n"
                + "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty int label\nend_header\n";
        out.write(header.getBytes(StandardCharsets.US_ASCII));
        int chunkPoints = 4096;
        ByteBuffer chunk = ByteBuffer.allocate(chunkPoints * BYTES_PER_VERTEX).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < cloud.size(); p++) {
            int label = labels[p];
            int rgb = label >= 0 && label < colours.length ? colours[label] : 0x808080;
            chunk.putFloat(cloud.x(p)).putFloat(cloud.y(p)).putFloat(cloud.z(p))
                    .put((byte) (rgb >> 16)).put((byte) (rgb >> 8)).put((byte) rgb).putInt(label);
            if (!chunk.hasRemaining()) {
                out.write(chunk.array(), 0, chunk.position());
                chunk.clear();
            }
        }
        out.write(chunk.array(), 0, chunk.position());
        out.flush();
    }
}
