package org.lacuna.api.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes float32 matrices and int32 vectors as NumPy {@code .npy} files (format 1.0, little-endian, C order), as
 * numpy.save does.
 */
public final class NpyWriter {
    private NpyWriter() {
    }

    /** {@code rows} of equal length as an array of shape (rows, columns). */
    public static void writeFloat32(OutputStream out, float[][] rows) throws IOException {
        int columns = rows.length == 0 ? 0 : rows[0].length;
        writeHeader(out, "<f4", "(" + rows.length + ", " + columns + ")");
        ByteBuffer row = ByteBuffer.allocate(columns * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] r : rows) {
            if (r.length != columns) {
                throw new IllegalArgumentException("rows of " + r.length + " and " + columns + " values");
            }
            row.clear();
            row.asFloatBuffer().put(r);
            out.write(row.array());
        }
        out.flush();
    }

    /** {@code values} as an int32 array of shape (n,): per-point labels, for example. */
    public static void writeInt32(OutputStream out, int[] values) throws IOException {
        writeHeader(out, "<i4", "(" + values.length + ",)");
        ByteBuffer chunk = ByteBuffer.allocate(4 * 8192).order(ByteOrder.LITTLE_ENDIAN);
        for (int from = 0; from < values.length; from += 8192) {
            int n = Math.min(8192, values.length - from);
            chunk.clear();
            chunk.asIntBuffer().put(values, from, n);
            out.write(chunk.array(), 0, 4 * n);
        }
        out.flush();
    }

    private static void writeHeader(OutputStream out, String descr, String shape) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        // Magic (6) + version (2) + header length (2) + dict + padding + newline: a multiple of 64 bytes.
        int unpadded = 10 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        ByteBuffer prefix = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        prefix.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length());
        out.write(prefix.array());
        out.write(header.getBytes(StandardCharsets.US_ASCII));
    }
}
