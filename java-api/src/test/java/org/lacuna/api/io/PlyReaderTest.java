package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lacuna.api.io.TestFiles.assertMalformed;
import static org.lacuna.api.io.TestFiles.ascii;
import static org.lacuna.api.io.TestFiles.concat;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lacuna.runtime.pointcloud.PointCloud;

class PlyReaderTest {
    @TempDir
    Path dir;

    /** x, y, z, intensity, red, neighbours (a list), range — three vertices. */
    private static final Object[][] VERTICES = {
        {1.5f, -2f, 3.25f, 0.5f, 200, new int[] {1, 2}, 10.5},
        {-1f, 0f, 0.125f, 1f, 0, new int[] {}, -3.0},
        {4f, 5f, 6f, 0.25f, 255, new int[] {0}, 1e3},
    };

    private static final String HEADER_ELEMENTS = """
            comment written by PlyReaderTest
            obj_info elements before and after the vertices, lists inside them
            element camera 1
            property float view_x
            property list uchar int ids
            element vertex 3
            property float x
            property float y
            property float z
            property float intensity
            property uchar red
            property list uchar int neighbours
            property double range
            element face 2
            property list uchar int vertex_indices
            end_header
            """;

    private static PointCloud expected() {
        return PointCloud.of(new float[] {1.5f, -1f, 4f}, new float[] {-2f, 0f, 5f}, new float[] {3.25f, 0.125f, 6f},
                List.of("intensity", "red", "range"),
                new float[][] {{0.5f, 1f, 0.25f}, {200, 0, 255}, {10.5f, -3f, 1000f}});
    }

    static byte[] ply(String format) {
        String header = "ply\nformat " + format + " 1.0\n" + HEADER_ELEMENTS;
        if (format.equals("ascii")) {
            StringBuilder body = new StringBuilder("0.5 3 7 8 9\n");
            for (Object[] v : VERTICES) {
                int[] list = (int[]) v[5];
                body.append(v[0]).append(' ').append(v[1]).append(' ').append(v[2]).append(' ').append(v[3]).append(' ')
                        .append(v[4]).append(' ').append(list.length);
                for (int item : list) {
                    body.append(' ').append(item);
                }
                body.append(' ').append(v[6]).append('\n');
            }
            body.append("3 0 1 2\n3 2 1 0\n");
            return ascii(header + body);
        }
        TestFiles.Bytes body = new TestFiles.Bytes(format.equals("binary_little_endian") ? ByteOrder.LITTLE_ENDIAN
                : ByteOrder.BIG_ENDIAN);
        body.f32(0.5f).i8(3).i32(7).i32(8).i32(9);
        for (Object[] v : VERTICES) {
            body.f32((float) v[0]).f32((float) v[1]).f32((float) v[2]).f32((float) v[3]).i8((int) v[4]);
            int[] list = (int[]) v[5];
            body.i8(list.length);
            for (int item : list) {
                body.i32(item);
            }
            body.f64((double) v[6]);
        }
        body.i8(3).i32(0).i32(1).i32(2).i8(3).i32(2).i32(1).i32(0);
        return concat(ascii(header), body.bytes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ascii", "binary_little_endian", "binary_big_endian"})
    void everyFormatReadsTheVerticesAndSkipsTheRest(String format) {
        PointCloud cloud = PlyReader.read(TestFiles.write(dir, "mesh.ply", ply(format)));
        TestFiles.assertSameCloud(expected(), cloud);
    }

    @Test
    void fixedSizeElementsBeforeTheVerticesAreSkippedWhole() {
        String header = "ply\r\nformat binary_little_endian 1.0\r\nelement info 2\r\nproperty int a\r\n"
                + "element vertex 2\r\nproperty double x\r\nproperty double y\r\nproperty double z\r\nend_header\r\n";
        byte[] body = TestFiles.Bytes.le().i32(-1).i32(-1).f64(1).f64(2).f64(3).f64(-4).f64(-5).f64(-6).bytes();
        PointCloud cloud = PlyReader.read(TestFiles.write(dir, "crlf.ply", concat(ascii(header), body)));
        assertEquals(2, cloud.size());
        assertEquals(-6f, cloud.z(1));
        assertEquals(List.of(), cloud.channelNames());
    }

    @Test
    void malformedHeadersNameTheFileAndTheProblem() {
        String good = new String(ply("ascii"), java.nio.charset.StandardCharsets.US_ASCII);
        assertBad("magic.ply", good.replaceFirst("ply", "plx"), "is not a PLY file: it starts with 'plx' instead of 'ply'");
        assertBad("pcd.ply", "# .PCD v0.7\nVERSION 0.7\n", "is not a PLY file");
        assertBad("format.ply", good.replace("format ascii", "format binary_middle_endian"),
                "unknown format 'binary_middle_endian'");
        assertBad("type.ply", good.replace("property float intensity", "property half intensity"),
                "unknown property type 'half'");
        assertBad("end.ply", good.substring(0, good.indexOf("end_header")), "no end_header line");
        assertBad("noformat.ply", good.replace("format ascii 1.0\n", ""), "the header has no format line");
        assertBad("novertex.ply", good.replace("element vertex", "element points"), "has no vertex element; its elements"
                + " are [camera, points, face]");
        assertBad("noz.ply", good.replace("property float z", "property float w"),
                "the vertex element has no scalar property 'z'");
        assertBad("twice.ply", good.replace("property float y", "property float x"), "has property 'x' twice");
        assertBad("orphan.ply", "ply\nformat ascii 1.0\nproperty float x\nend_header\n",
                "a property comes before any element");
        assertBad("count.ply", good.replace("element vertex 3", "element vertex three"),
                "element count 'three' is not a whole number");
        assertBad("keyword.ply", good.replace("comment", "remark"), "'remark written by PlyReaderTest' is not a PLY"
                + " header line");
    }

    @Test
    void malformedBodiesNameTheProblem() {
        String good = new String(ply("ascii"), java.nio.charset.StandardCharsets.US_ASCII);
        assertBad("token.ply", good.replace("1.5 -2.0", "1.5 abc"), "'abc' is not a float32");
        assertBad("extra.ply", good.replace("-3.0\n", "-3.0 7\n"), "(vertex 1) has 8 values; the vertex properties take 7");
        assertBad("list.ply", good.replace("200 2 1 2", "200 9 1 2"), "list 'neighbours' has length 9 but the line holds 3");
        assertBad("lines.ply", good.substring(0, good.indexOf("4.0 5.0")),
                "the body ends in element 'vertex' after 2 of its 3 lines");
        assertBad("faces.ply", good.substring(0, good.indexOf("3 2 1 0")),
                "the body ends in element 'face' after 1 of its 2 lines");
        assertBad("face.ply", good.replace("3 2 1 0", "3 2 1"), "(face 1): list 'vertex_indices' has length 3 but the"
                + " line holds 2 more values");
        assertBad("more.ply", good + "3 1 1 1\n", "body line 7 is beyond the last element the header declares");
        // The vertex lines read as cameras: the second camera's list length is not a uchar.
        assertBad("skip.ply", good.replace("element camera 1", "element camera 9"), "(camera 1): '-2.0' is not a uint8");
        assertBad("uchar.ply", good.replace(" 200 ", " 300 "), "does not fit uint8");
        assertBad("lies.ply", good.replace("element vertex 3", "element vertex 100000"),
                "declares 100,000 vertices, more than the remaining");

        byte[] le = ply("binary_little_endian");
        int headerLength = ("ply\nformat binary_little_endian 1.0\n" + HEADER_ELEMENTS).length();
        byte[] longList = le.clone();
        longList[headerLength + 4] = (byte) 200; // camera's list claims 200 ints
        assertBadBytes("camera.ply", longList, "truncated: camera 0 needs 800 bytes at offset");
        assertBadBytes("vertex.ply", Arrays.copyOf(le, headerLength + 40), "the vertex element declares 3 vertices of at"
                + " least 26 bytes, but only 23 bytes remain");
        // Past the size bound (3 vertices of at least 26 bytes) but inside vertex 2's range.
        assertBadBytes("cut.ply", Arrays.copyOf(le, headerLength + 17 + 34 + 26 + 22 + 3), "truncated: vertex 2 needs 8"
                + " bytes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ascii", "binary_little_endian", "binary_big_endian"})
    void truncationsAndCorruptionsFailCleanly(String format) {
        TestFiles.assertEveryTruncationFailsCleanly(dir, "t.ply", ply(format), PlyReader::read);
        TestFiles.assertCorruptionFailsCleanly(dir, "c.ply", ply(format), PlyReader::read, format.hashCode());
    }

    private void assertBad(String name, String content, String... fragments) {
        assertBadBytes(name, ascii(content), fragments);
    }

    private void assertBadBytes(String name, byte[] content, String... fragments) {
        Path file = TestFiles.write(dir, name, content);
        assertMalformed(file, () -> PlyReader.read(file), fragments);
    }
}
