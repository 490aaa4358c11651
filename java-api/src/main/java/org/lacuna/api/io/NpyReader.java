package org.lacuna.api.io;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * NPY arrays (numpy's {@code np.save}) and NPZ archives ({@code np.savez}, {@code np.savez_compressed}: a zip of
 * {@code .npy} entries, stored or deflated). As point clouds, an [N, k >= 3] array gives x, y, z from its first
 * three columns and channels {@code column3 ...} from the rest.
 */
public final class NpyReader {
    /** The entry an NPZ archive of several arrays must name for {@link #readPointCloud}. */
    public static final String POINTS_ENTRY = "points";

    private NpyReader() {
    }

    public static NpyArray read(Path path) {
        String source = path.toString();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
            return read(source, in);
        } catch (IOException e) {
            throw Sources.unreadable(source, e);
        }
    }

    /** Every array of an NPZ archive, by entry name without {@code .npy}, in archive order. */
    public static Map<String, NpyArray> readNpz(Path path) {
        return readNpz(path.toString(), Sources.readAll(path));
    }

    /**
     * Every array of an NPZ archive in memory; {@code source} names it in errors. The entries are read in file
     * order; an archive without its end-of-central-directory record (cut short) is refused even when its entries
     * are whole, as {@code ZipFile} would.
     */
    public static Map<String, NpyArray> readNpz(String source, byte[] bytes) {
        if (!hasEndOfCentralDirectory(bytes)) {
            throw new MalformedInputException(source, "is not a readable zip archive: no end-of-central-directory"
                    + " record (" + Sources.count(bytes.length) + " bytes; truncated, or not a zip file)");
        }
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(bytes))) {
            ZipEntry entry;
            while ((entry = zip.getNextEntry()) != null) {
                if (entry.isDirectory()) {
                    continue;
                }
                String name = entry.getName();
                String entrySource = source + " (entry " + name + ")";
                if (!name.endsWith(".npy")) {
                    throw new MalformedInputException(entrySource, "an NPZ archive holds only .npy entries");
                }
                try {
                    arrays.put(name.substring(0, name.length() - 4), read(entrySource, zip));
                } catch (IOException e) {
                    throw new MalformedInputException(entrySource, "cannot be read (corrupt or truncated archive): "
                            + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new MalformedInputException(source, "is not a readable zip archive: " + e.getMessage(), e);
        }
        if (arrays.isEmpty()) {
            throw new MalformedInputException(source, "is an NPZ archive without arrays");
        }
        return arrays;
    }

    /** The end-of-central-directory signature within the last 22 + 65,535 bytes (the record plus a comment). */
    private static boolean hasEndOfCentralDirectory(byte[] bytes) {
        int last = bytes.length - 22;
        int first = Math.max(0, last - 65_535);
        for (int at = last; at >= first; at--) {
            if (bytes[at] == 'P' && bytes[at + 1] == 'K' && bytes[at + 2] == 5 && bytes[at + 3] == 6) {
                return true;
            }
        }
        return false;
    }

    /** The point cloud in an .npy file, or in an .npz archive's only array or its {@value #POINTS_ENTRY} entry. */
    public static PointCloud readPointCloud(Path path) {
        boolean npz = path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npz");
        return readPointCloud(path.toString(), Sources.readAll(path), npz);
    }

    /** A point cloud from NPY ({@code npz} false) or NPZ bytes in memory; {@code source} names them in errors. */
    public static PointCloud readPointCloud(String source, byte[] bytes, boolean npz) {
        if (!npz) {
            try (InputStream in = new ByteArrayInputStream(bytes)) {
                return toPointCloud(source, read(source, in));
            } catch (IOException e) {
                throw Sources.unreadable(source, e);
            }
        }
        Map<String, NpyArray> arrays = readNpz(source, bytes);
        if (arrays.size() == 1) {
            Map.Entry<String, NpyArray> only = arrays.entrySet().iterator().next();
            return toPointCloud(source + " (entry " + only.getKey() + ".npy)", only.getValue());
        }
        NpyArray points = arrays.get(POINTS_ENTRY);
        if (points == null) {
            throw new MalformedInputException(source, "holds the arrays " + arrays.keySet() + "; a point cloud is the"
                    + " only array or the one named '" + POINTS_ENTRY + "'");
        }
        return toPointCloud(source + " (entry " + POINTS_ENTRY + ".npy)", points);
    }

    /** An [N, k >= 3] array as a cloud: columns x, y, z, then channels column3, column4, ... */
    public static PointCloud toPointCloud(String source, NpyArray array) {
        long[] shape = array.shape();
        if (shape.length != 2 || shape[1] < 3) {
            throw new MalformedInputException(source, "holds an array of shape " + Arrays.toString(shape)
                    + "; a point cloud is [N, 3 or more] (x, y, z, extra channels)");
        }
        int n = (int) shape[0];
        int k = (int) shape[1];
        float[] values = array.toFloats();
        float[][] columns = new float[k][n];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                columns[c][i] = values[i * k + c];
            }
        }
        List<String> names = new ArrayList<>();
        float[][] channels = new float[k - 3][];
        for (int c = 3; c < k; c++) {
            names.add("column" + c);
            channels[c - 3] = columns[c];
        }
        return PointCloud.of(columns[0], columns[1], columns[2], names, channels);
    }

    static NpyArray read(String source, InputStream in) throws IOException {
        NpyHeader header = NpyHeader.read(source, in);
        int count = header.elementCount(source);
        int bytes = count * header.type().byteSize();
        // readNBytes grows its buffer as data arrives, so a header that lies about the shape cannot allocate more
        // than the stream holds.
        byte[] data = in.readNBytes(bytes);
        if (data.length < bytes) {
            throw new MalformedInputException(source, "truncated: shape " + header.describeShape() + " of "
                    + header.type() + " needs " + Sources.count(bytes) + " data bytes, the data has "
                    + Sources.count(data.length));
        }
        if (in.read() != -1) {
            throw new MalformedInputException(source, "has more data than shape " + header.describeShape() + " of "
                    + header.type() + " takes (" + Sources.count(bytes) + " bytes)");
        }
        return NpyArray.decode(header, data);
    }
}
