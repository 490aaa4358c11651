package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.lacuna.api.io.TestFiles.ascii;
import static org.lacuna.api.io.TestFiles.assertMalformed;
import static org.lacuna.api.io.TestFiles.concat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

class NpyReaderTest {
    @TempDir
    Path dir;

    // Written by numpy 2.4 (np.save, np.lib.format.write_array with version=(2, 0) and (3, 0), np.savez,
    // np.savez_compressed), so the reader is checked against the real writer, not only against this test's own.
    /** np.arange(6, dtype='<f4').reshape(2, 3). */
    private static final String NUMPY_C_F4 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=";
    /** np.asfortranarray(np.arange(6, dtype='>f8').reshape(2, 3)). */
    private static final String NUMPY_FORTRAN_F8_BIG = "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAEAIAAAAAAAAP/AAAAAAAABAEAAAAAAAAEAAAAAAAAAAQBQAAAAAAAA=";
    /** np.array([[1, -2], [3, 4]], dtype='<i8'), format version 2.0. */
    private static final String NUMPY_V2_I8 = "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP7/////////AwAAAAAAAAAEAAAAAAAAAA==";
    /** np.array([7, -8, 9], dtype='>i4'), format version 3.0. */
    private static final String NUMPY_V3_I4_BIG = "k05VTVBZAwB0AAAAeydkZXNjcic6ICc+aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAH////+AAAAAk=";
    /** np.savez_compressed(points=[[.5, 1.5, -2, .25], [3, 4, 5, .75], [-1, -2, -3, 1]] as '<f4', labels=[1, 2, 3] as '<i8'). */
    static final String NUMPY_NPZ_DEFLATED = "UEsDBC0AAAAIAAAAIQCw/6XK//////////8KABQAcG9pbnRzLm5weQEAEACwAAAAAAAAAGkAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNmoq6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaxjoKJpo6CrUKZAMuBgYGewaGA0DMcICBocGOgcHBAUgD8QIgdgCKN+yHyDmA5O0BUEsDBC0AAAAIAAAAIQC8kVWO//////////8KABQAbGFiZWxzLm5weQEAEACYAAAAAAAAAE0AAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNpoa6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaxjqaOgq1ChQALkYGCGCC0sxQGgBQSwECLQMtAAAACAAAACEAsP+lymkAAACwAAAACgAAAAAAAAAAAAAAgAEAAAAAcG9pbnRzLm5weVBLAQItAy0AAAAIAAAAIQC8kVWOTQAAAJgAAAAKAAAAAAAAAAAAAACAAaUAAABsYWJlbHMubnB5UEsFBgAAAAACAAIAcAAAAC4BAAAAAA==";
    /** np.savez(the same points) without a name: one stored entry arr_0.npy. */
    private static final String NUMPY_NPZ_STORED = "UEsDBC0AAAAAAAAAIQCw/6XK//////////8JABQAYXJyXzAubnB5AQAQALAAAAAAAAAAsAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywgNCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAD8AAMA/AAAAwAAAgD4AAEBAAACAQAAAoEAAAEA/AACAvwAAAMAAAEDAAACAP1BLAQItAy0AAAAAAAAAIQCw/6XKsAAAALAAAAAJAAAAAAAAAAAAAACAAQAAAABhcnJfMC5ucHlQSwUGAAAAAAEAAQA3AAAA6wAAAAAA";

    private Path numpyFile(String name, String base64) {
        return TestFiles.write(dir, name, Base64.getDecoder().decode(base64));
    }

    /** An NPY file as numpy lays it out: the dict padded with spaces to a 64-byte boundary, then a newline. */
    static byte[] npy(int version, String dict, byte[] data) {
        int lengthBytes = version == 1 ? 2 : 4;
        int unpadded = 8 + lengthBytes + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        TestFiles.Bytes out = TestFiles.Bytes.le().i8(0x93).raw(ascii("NUMPY")).i8(version).i8(0);
        if (version == 1) {
            out.i16(header.length());
        } else {
            out.i32(header.length());
        }
        return concat(out.bytes(), ascii(header), data);
    }

    static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape
                + ", }";
    }

    @Test
    void arraysWrittenByNumpyRead() {
        NpyArray c = NpyReader.read(numpyFile("c.npy", NUMPY_C_F4));
        assertArrayEquals(new long[] {2, 3}, c.shape());
        assertEquals(ScalarType.FLOAT32, c.elementType());
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, c.toFloats());

        NpyArray fortran = NpyReader.read(numpyFile("f.npy", NUMPY_FORTRAN_F8_BIG));
        assertEquals(ScalarType.FLOAT64, fortran.elementType());
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, fortran.toDoubles(), "C order whatever the file's order");

        NpyArray v2 = NpyReader.read(numpyFile("v2.npy", NUMPY_V2_I8));
        assertArrayEquals(new long[] {1, -2, 3, 4}, v2.toLongs());
        assertArrayEquals(new int[] {1, -2, 3, 4}, v2.toInts());

        NpyArray v3 = NpyReader.read(numpyFile("v3.npy", NUMPY_V3_I4_BIG));
        assertArrayEquals(new long[] {3}, v3.shape());
        assertArrayEquals(new int[] {7, -8, 9}, v3.toInts());
        assertThrows(InvalidInputException.class, c::toInts);
    }

    @Test
    void archivesWrittenByNumpyRead() {
        Map<String, NpyArray> arrays = NpyReader.readNpz(numpyFile("d.npz", NUMPY_NPZ_DEFLATED));
        assertEquals(List.of("points", "labels"), List.copyOf(arrays.keySet()));
        assertArrayEquals(new long[] {1, 2, 3}, arrays.get("labels").toLongs());
        PointCloud deflated = PointClouds.read(numpyFile("d.npz", NUMPY_NPZ_DEFLATED));
        assertArrayEquals(new float[] {0.5f, 3f, -1f}, deflated.xs());
        assertArrayEquals(new float[] {-2f, 5f, -3f}, deflated.zs());
        assertEquals(List.of("column3"), deflated.channelNames());
        assertArrayEquals(new float[] {0.25f, 0.75f, 1f}, deflated.channel("column3"));
        TestFiles.assertSameCloud(deflated, PointClouds.read(numpyFile("s.npz", NUMPY_NPZ_STORED)));
    }

    @Test
    void everyDtypeAndOrderReads() {
        // A [2, 3, 4] array stored column-major: element (i, j, k) at i + 2 * (j + 3 * k), value 100i + 10j + k.
        for (String order : List.of("<", ">")) {
            for (String kind : List.of("f4", "f8", "i4", "i8")) {
                TestFiles.Bytes data = new TestFiles.Bytes(order.equals("<") ? java.nio.ByteOrder.LITTLE_ENDIAN
                        : java.nio.ByteOrder.BIG_ENDIAN);
                ScalarType type = switch (kind) {
                    case "f4" -> ScalarType.FLOAT32;
                    case "f8" -> ScalarType.FLOAT64;
                    case "i4" -> ScalarType.INT32;
                    default -> ScalarType.INT64;
                };
                for (int k = 0; k < 4; k++) {
                    for (int j = 0; j < 3; j++) {
                        for (int i = 0; i < 2; i++) {
                            data.scalar(type, 100 * i + 10 * j + k);
                        }
                    }
                }
                Path file = TestFiles.write(dir, "a.npy", npy(1, dict(order + kind, true, "(2, 3, 4)"), data.bytes()));
                NpyArray array = NpyReader.read(file);
                assertEquals(type, array.elementType());
                double[] values = array.toDoubles();
                for (int i = 0; i < 2; i++) {
                    for (int j = 0; j < 3; j++) {
                        for (int k = 0; k < 4; k++) {
                            assertEquals(100 * i + 10 * j + k, values[12 * i + 4 * j + k], order + kind);
                        }
                    }
                }
            }
        }
    }

    @Test
    void malformedArraysNameTheFileAndTheProblem() {
        byte[] six = TestFiles.Bytes.le().f32(0).f32(1).f32(2).f32(3).f32(4).f32(5).bytes();
        assertBad("magic.npy", concat(ascii("PK\u0003\u0004"), new byte[40]), "is not an NPY array");
        assertBad("empty.npy", new byte[0], "truncated: the NPY preamble takes 8 bytes, the data has 0");
        assertBad("version.npy", withVersion(npy(1, dict("<f4", false, "(6,)"), six), 4), "version 4.0 is not supported");
        assertBad("list.npy", npy(1, "[1, 2]", six), "the NPY header is not a dict");
        assertBad("syntax.npy", npy(1, "{'descr': '<f4', 'fortran_order': Maybe}", six), "is not a Python dict literal");
        assertBad("keys.npy", npy(1, "{'descr': '<f4', 'shape': (6,)}", six), "it needs exactly [descr, fortran_order, shape]");
        assertBad("structured.npy", npy(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (6,)}", six),
                "is a structured dtype");
        assertBad("dtype.npy", npy(1, dict("<u2", false, "(6,)"), six), "NPY dtype '<u2' is not supported");
        assertBad("negative.npy", npy(1, dict("<f4", false, "(-6,)"), six), "holds -6, not a size");
        assertBad("short.npy", npy(1, dict("<f4", false, "(7,)"), six),
                "truncated: shape (7,) of FLOAT32 needs 28 data bytes, the data has 24");
        assertBad("long.npy", npy(1, dict("<f4", false, "(5,)"), six), "has more data than shape (5,) of FLOAT32");
        assertBad("huge.npy", npy(1, dict("<f4", false, "(1000000000000, 1000000000000)"), six), "is too large to read");
        byte[] lyingLength = npy(1, dict("<f4", false, "(6,)"), six);
        lyingLength[8] = (byte) 0xFF;
        lyingLength[9] = (byte) 0x7F;
        assertBad("header.npy", lyingLength, "truncated: the NPY header declares 32767 bytes");
        Path vector = TestFiles.write(dir, "vector.npy", npy(1, dict("<f4", false, "(6,)"), six));
        assertMalformed(vector, () -> PointClouds.read(vector), "a point cloud is [N, 3 or more]");
    }

    @Test
    void malformedArchivesNameTheFileAndTheEntry() throws IOException {
        byte[] archive = Base64.getDecoder().decode(NUMPY_NPZ_DEFLATED);
        assertBadArchive("text.npz", ascii("not a zip at all"), "is not a readable zip archive");
        assertBadArchive("cut.npz", Arrays.copyOf(archive, archive.length - 30), "is not a readable zip archive");
        byte[] corrupt = archive.clone();
        for (int i = 80; i < 120; i++) {
            corrupt[i] ^= 0x5A; // inside the first entry's deflate stream
        }
        assertBadArchive("corrupt.npz", corrupt, "(entry points.npy)");
        assertBadArchive("readme.npz", zip(Map.of("README.txt", ascii("hello"))), "(entry README.txt)",
                "holds only .npy entries");
        byte[] one = npy(1, dict("<f4", false, "(2, 3)"), new byte[24]);
        Path two = TestFiles.write(dir, "two.npz", zip(new java.util.TreeMap<>(Map.of("a.npy", one, "b.npy", one))));
        assertMalformed(two, () -> PointClouds.read(two), "holds the arrays [a, b]", "the one named 'points'");
        Path truncatedEntry = TestFiles.write(dir, "entry.npz", zip(Map.of("points.npy", Arrays.copyOf(one, 100))));
        assertMalformed(truncatedEntry, () -> PointClouds.read(truncatedEntry), "(entry points.npy)", "truncated");
    }

    @Test
    void truncationsAndCorruptionsFailCleanly() {
        byte[] valid = Base64.getDecoder().decode(NUMPY_NPZ_STORED);
        TestFiles.assertEveryTruncationFailsCleanly(dir, "t.npz", valid, PointClouds::read);
        TestFiles.assertCorruptionFailsCleanly(dir, "c.npz", valid, PointClouds::read, 7);
        byte[] deflated = Base64.getDecoder().decode(NUMPY_NPZ_DEFLATED);
        TestFiles.assertCorruptionFailsCleanly(dir, "d.npz", deflated, PointClouds::read, 11);
        byte[] npy = npy(1, dict("<f8", false, "(2, 4)"), new byte[64]);
        TestFiles.assertEveryTruncationFailsCleanly(dir, "t.npy", npy, PointClouds::read);
        TestFiles.assertCorruptionFailsCleanly(dir, "c.npy", npy, PointClouds::read, 13);
    }

    private static byte[] withVersion(byte[] npy, int major) {
        byte[] copy = npy.clone();
        copy[6] = (byte) major;
        return copy;
    }

    private static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                out.putNextEntry(new ZipEntry(entry.getKey()));
                out.write(entry.getValue());
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private void assertBad(String name, byte[] content, String... fragments) {
        Path file = TestFiles.write(dir, name, content);
        assertMalformed(file, () -> NpyReader.read(file), fragments);
    }

    private void assertBadArchive(String name, byte[] content, String... fragments) {
        Path file = TestFiles.write(dir, name, content);
        assertMalformed(file, () -> NpyReader.readNpz(file), fragments);
    }
}
