package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lacuna.api.io.TestFiles.assertMalformed;
import static org.lacuna.api.io.TestFiles.ascii;
import static org.lacuna.api.io.TestFiles.concat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lacuna.runtime.pointcloud.PointCloud;

class PcdReaderTest {
    @TempDir
    Path dir;

    /** Fields of every kind the reader treats differently: coordinates, plain, unsigned, padding, colour, COUNT 3. */
    private static final List<PcdField> FIELDS = List.of(
            new PcdField("x", 4, 'F', 1), new PcdField("y", 4, 'F', 1), new PcdField("z", 8, 'F', 1),
            new PcdField("intensity", 4, 'F', 1), new PcdField("ring", 2, 'U', 1), new PcdField("_", 1, 'I', 2),
            new PcdField("rgb", 4, 'F', 1), new PcdField("normal", 4, 'F', 3), new PcdField("label", 4, 'I', 1));

    /** Slot values per point, repetitive so that LZF finds matches. */
    private static double[][] values(int points) {
        double[][] rows = new double[points][];
        for (int i = 0; i < points; i++) {
            int rgb = (i % 256) << 16 | 128 << 8 | (255 - i % 256);
            rows[i] = new double[] {(i % 10) * 0.5, (i % 7) * 0.25 - 1, -1.0 + i % 3, (i % 5) * 10.5, i % 64, 0, 0,
                rgb, 0, 1, i % 2 == 0 ? -0.5 : 0.5, -(i % 4)};
        }
        return rows;
    }

    private static PointCloud expected(double[][] rows) {
        int n = rows.length;
        float[][] columns = new float[12][n];
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < 12; s++) {
                columns[s][i] = (float) rows[i][s];
            }
        }
        float[] red = new float[n];
        float[] green = new float[n];
        float[] blue = new float[n];
        for (int i = 0; i < n; i++) {
            int rgb = (int) rows[i][7];
            red[i] = rgb >>> 16 & 0xFF;
            green[i] = rgb >>> 8 & 0xFF;
            blue[i] = rgb & 0xFF;
        }
        return PointCloud.of(columns[0], columns[1], columns[2],
                List.of("intensity", "ring", "red", "green", "blue", "normal_0", "normal_1", "normal_2", "label"),
                new float[][] {columns[3], columns[4], red, green, blue, columns[8], columns[9], columns[10],
                    columns[11]});
    }

    static String header(List<PcdField> fields, long width, long height, String data) {
        StringBuilder names = new StringBuilder("FIELDS");
        StringBuilder sizes = new StringBuilder("SIZE");
        StringBuilder types = new StringBuilder("TYPE");
        StringBuilder counts = new StringBuilder("COUNT");
        for (PcdField f : fields) {
            names.append(' ').append(f.name());
            sizes.append(' ').append(f.size());
            types.append(' ').append(f.type());
            counts.append(' ').append(f.count());
        }
        return "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n" + names + "\n" + sizes + "\n" + types + "\n"
                + counts + "\nWIDTH " + width + "\nHEIGHT " + height + "\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS "
                + width * height + "\nDATA " + data + "\n";
    }

    /** A PCD file of {@code rows} (one value per slot; a colour slot holds its packed bits) in an encoding. */
    static byte[] pcd(List<PcdField> fields, double[][] rows, String encoding) {
        String head = header(fields, rows.length, 1, encoding);
        return switch (encoding) {
            case "ascii" -> {
                StringBuilder body = new StringBuilder();
                for (double[] row : rows) {
                    List<String> tokens = new ArrayList<>();
                    int s = 0;
                    for (PcdField f : fields) {
                        for (int e = 0; e < f.count(); e++, s++) {
                            double v = row[s];
                            tokens.add(f.name().equals("rgb") || f.type() != 'F' ? Long.toString((long) v)
                                    : Double.isNaN(v) ? "nan" : Float.toString((float) v));
                        }
                    }
                    body.append(String.join(" ", tokens)).append('\n');
                }
                yield ascii(head + body);
            }
            case "binary" -> {
                TestFiles.Bytes body = TestFiles.Bytes.le();
                for (double[] row : rows) {
                    int s = 0;
                    for (PcdField f : fields) {
                        for (int e = 0; e < f.count(); e++, s++) {
                            writeValue(body, f, row[s]);
                        }
                    }
                }
                yield concat(ascii(head), body.bytes());
            }
            case "binary_compressed" -> {
                TestFiles.Bytes columns = TestFiles.Bytes.le();
                int first = 0;
                for (PcdField f : fields) {
                    for (double[] row : rows) {
                        for (int e = 0; e < f.count(); e++) {
                            writeValue(columns, f, row[first + e]);
                        }
                    }
                    first += f.count();
                }
                byte[] raw = columns.bytes();
                byte[] compressed = TestFiles.lzf(raw);
                yield concat(ascii(head), TestFiles.Bytes.le().i32(compressed.length).i32(raw.length).bytes(),
                        compressed);
            }
            default -> throw new IllegalArgumentException(encoding);
        };
    }

    private static void writeValue(TestFiles.Bytes out, PcdField field, double value) {
        if (field.name().equals("rgb") || field.name().equals("rgba")) {
            out.i32((int) (long) value);
        } else {
            out.scalar(field.scalarType(), value);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ascii", "binary", "binary_compressed"})
    void everyEncodingReadsTheSameCloud(String encoding) {
        double[][] rows = values(300);
        Path file = TestFiles.write(dir, "cloud.pcd", pcd(FIELDS, rows, encoding));
        PointCloud cloud = PcdReader.read(file);
        TestFiles.assertSameCloud(expected(rows), cloud);
        assertEquals(PcdHeader.Encoding.valueOf(encoding.toUpperCase(Locale.ROOT)), PcdReader.readHeader(file).encoding());
    }

    @Test
    void theCompressedBodyReallyIsCompressed() {
        byte[] compressed = pcd(FIELDS, values(300), "binary_compressed");
        byte[] plain = pcd(FIELDS, values(300), "binary");
        assertTrue(compressed.length < plain.length / 2, compressed.length + " vs " + plain.length);
    }

    @Test
    void pagePaddingAfterTheBodyIsAccepted() {
        // Older PCL writers size files to a page; the bytes after the data are not points.
        for (String encoding : List.of("binary", "binary_compressed")) {
            byte[] padded = concat(pcd(FIELDS, values(20), encoding), new byte[3000]);
            TestFiles.assertSameCloud(expected(values(20)), PcdReader.read(TestFiles.write(dir, "padded.pcd", padded)));
        }
    }

    @Test
    void organisedCloudsKeepTheirNaNPoints() {
        List<PcdField> xyz = List.of(new PcdField("x", 4, 'F', 1), new PcdField("y", 4, 'F', 1),
                new PcdField("z", 4, 'F', 1));
        String body = "1 2 3\nnan nan nan\n-4.5 5 6e-1\nNaN -inf 1\n";
        Path file = TestFiles.write(dir, "organised.pcd", ascii(header(xyz, 2, 2, "ascii") + body));
        PointCloud cloud = PcdReader.read(file);
        assertEquals(4, cloud.size());
        assertTrue(Float.isNaN(cloud.x(1)));
        assertEquals(Float.NEGATIVE_INFINITY, cloud.y(3));
        assertEquals(0.6f, cloud.z(2));
        assertEquals(2, cloud.finitePoints().size());
        PcdHeader header = PcdReader.readHeader(file);
        assertEquals(2, header.width());
        assertEquals(2, header.height());
        assertEquals(List.of(0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0), header.viewpoint());
    }

    @Test
    void rgbaUnpacksAlphaAndFloatWrittenColoursAreRead() {
        List<PcdField> fields = List.of(new PcdField("x", 4, 'F', 1), new PcdField("y", 4, 'F', 1),
                new PcdField("z", 4, 'F', 1), new PcdField("rgba", 4, 'U', 1));
        int argb = 0x80_10_20_30;
        byte[] binary = concat(ascii(header(fields, 1, 1, "binary")),
                TestFiles.Bytes.le().f32(1).f32(2).f32(3).i32(argb).bytes());
        PointCloud cloud = PcdReader.read(TestFiles.write(dir, "rgba.pcd", binary));
        assertEquals(List.of("red", "green", "blue", "alpha"), cloud.channelNames());
        assertArrayEquals(new float[] {0x10}, cloud.channel("red"));
        assertArrayEquals(new float[] {0x30}, cloud.channel("blue"));
        assertArrayEquals(new float[] {0x80}, cloud.channel("alpha"));
        // Older PCL wrote an F rgb field in ascii as the float itself.
        List<PcdField> rgb = List.of(fields.get(0), fields.get(1), fields.get(2), new PcdField("rgb", 4, 'F', 1));
        String asFloat = Float.toString(Float.intBitsToFloat(0x00_40_50_60));
        PointCloud old = PcdReader.read(TestFiles.write(dir, "old.pcd", ascii(header(rgb, 1, 1, "ascii")
                + "1 2 3 " + asFloat + "\n")));
        assertArrayEquals(new float[] {0x40}, old.channel("red"));
        assertArrayEquals(new float[] {0x60}, old.channel("blue"));
    }

    @Test
    void malformedHeadersNameTheFileAndTheProblem() {
        String good = header(FIELDS, 1, 1, "ascii");
        String row = "0 0 0 0 0 0 0 0 0 0 0 0\n";
        assertBad("ply.pcd", "ply\nformat ascii 1.0\n", "line 1: 'ply' is not a PCD header line (not a PCD file?)");
        assertBad("empty.pcd", "", "is not a PCD file");
        assertBad("nodata.pcd", good.substring(0, good.indexOf("DATA")), "no DATA line");
        assertBad("encoding.pcd", good.replace("DATA ascii", "DATA zstd") + row, "DATA 'zstd' is not ascii");
        assertBad("type.pcd", good.replace("TYPE F F F", "TYPE X F F") + row, "TYPE X and SIZE 4, which is no PCD type");
        assertBad("halffloat.pcd", good.replace("SIZE 4 4 8 4 2", "SIZE 4 4 8 2 2") + row, "TYPE F and SIZE 2");
        assertBad("sizes.pcd", good.replace("SIZE 4 4 8", "SIZE 4 8") + row, "SIZE has 8 entries but FIELDS names 9");
        assertBad("points.pcd", good.replace("POINTS 1", "POINTS 2") + row, "POINTS 2 is not WIDTH × HEIGHT = 1 × 1");
        assertBad("width.pcd", good.replace("WIDTH 1", "WIDTH one") + row, "WIDTH value 'one' is not a whole number");
        assertBad("twice.pcd", good.replace("HEIGHT 1\n", "HEIGHT 1\nHEIGHT 1\n") + row, "HEIGHT appears twice");
        assertBad("nox.pcd", good.replace("FIELDS x", "FIELDS q") + row, "has no 'x' field");
        assertBad("viewpoint.pcd", good.replace("VIEWPOINT 0 0 0 1 0 0 0", "VIEWPOINT 0 0 0") + row,
                "VIEWPOINT needs 7 numbers");
        assertBad("dupe.pcd", good.replace("FIELDS x y z intensity", "FIELDS x y z x") + row, "field 'x' appears twice");
    }

    @Test
    void malformedAsciiBodiesNameTheLine() {
        String head = header(FIELDS, 2, 1, "ascii");
        String row = "0 0 0 0 0 0 0 0 0 0 0 0\n";
        // Long enough that one row passes the size bound for two, so the line checks are what fail.
        String wide = "0000000 ".repeat(11) + "0\n";
        assertBad("short.pcd", head + wide, "the body ends after 1 points; the header declares 2");
        assertBad("long.pcd", head + row + row + row, "holds more points than the 2 the header declares");
        assertBad("token.pcd", head + row + row.replaceFirst("0", "zero"), "value 1 'zero' is not a float32");
        assertBad("count.pcd", head + wide + "0 0 0\n", "(point 1) has 3 values; the fields need 12");
        assertBad("range.pcd", head + row + row.replace("0 0 0 0 0 0 0", "0 0 0 0 70000 0 0"), "does not fit uint16");
        assertBad("lies.pcd", header(FIELDS, 1000, 1, "ascii") + row, "declares 1,000 points of 12 values");
    }

    @Test
    void malformedBinaryBodiesNameTheProblem() {
        byte[] binary = pcd(FIELDS, values(10), "binary");
        assertBadBytes("truncated.pcd", Arrays.copyOf(binary, binary.length - 3),
                "truncated: the header declares 10 points of 44 bytes (440 bytes), but only 437 bytes follow");
        byte[] lie = new String(binary, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("WIDTH 10", "WIDTH 11").replace("POINTS 10", "POINTS 11")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertBadBytes("lie.pcd", lie, "11 points of 44 bytes (484 bytes), but only 440 bytes follow");
    }

    @Test
    void malformedCompressedBodiesNameTheProblem() {
        byte[] good = pcd(FIELDS, values(300), "binary_compressed");
        int body = header(FIELDS, 300, 1, "binary_compressed").length();
        assertBadBytes("nosizes.pcd", Arrays.copyOf(good, body + 5), "needs 8 bytes of sizes, but only 5 follow");
        assertBadBytes("cut.pcd", Arrays.copyOf(good, good.length - 10), "compressed bytes, but only");
        byte[] wrongSize = good.clone();
        java.nio.ByteBuffer.wrap(wrongSize).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(body + 4, 300 * 44 + 4);
        assertBadBytes("size.pcd", wrongSize, "bytes once decompressed, but 300 points of 44 bytes take 13,200");
        byte[] corrupt = good.clone();
        for (int i = body + 8; i < corrupt.length; i += 3) {
            corrupt[i] = (byte) 0xE0; // long back references reaching before the output's start
        }
        assertBadBytes("corrupt.pcd", corrupt, "LZF-compressed data is corrupt or truncated");
        byte[] cannotExpand = good.clone();
        java.nio.ByteBuffer.wrap(cannotExpand).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(body, 1);
        assertBadBytes("expand.pcd", cannotExpand, "an LZF stream of 1 bytes cannot expand to the 13,200 bytes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ascii", "binary", "binary_compressed"})
    void truncationsAndCorruptionsFailCleanly(String encoding) {
        byte[] valid = pcd(FIELDS, values(encoding.equals("binary_compressed") ? 40 : 6), encoding);
        TestFiles.assertEveryTruncationFailsCleanly(dir, "t.pcd", valid, PcdReader::read);
        TestFiles.assertCorruptionFailsCleanly(dir, "c.pcd", valid, PcdReader::read, encoding.hashCode());
    }

    private void assertBad(String name, String content, String... fragments) {
        assertBadBytes(name, ascii(content), fragments);
    }

    private void assertBadBytes(String name, byte[] content, String... fragments) {
        Path file = TestFiles.write(dir, name, content);
        assertMalformed(file, () -> PcdReader.read(file), fragments);
    }
}
