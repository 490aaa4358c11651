package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lacuna.api.io.TestFiles.assertMalformed;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

class PointCloudsTest {
    @TempDir
    Path dir;

    @Test
    void theExtensionPicksTheReaderInAnyCase() {
        byte[] point = TestFiles.Bytes.le().f32(1).f32(2).f32(3).f32(0.5f).bytes();
        assertEquals(1, PointClouds.read(TestFiles.write(dir, "scan.BIN", point)).size());
        assertEquals(3, PointClouds.read(TestFiles.write(dir, "mesh.Ply", PlyReaderTest.ply("ascii"))).size());
        assertEquals(2, PointClouds.read(TestFiles.write(dir, "cloud.pcd", TestFiles.ascii(
                "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 2\nHEIGHT 1\nDATA ascii\n1 2 3\n4 5 6\n"))).size());
        assertEquals(2, PointClouds.read(TestFiles.write(dir, "points.npy", NpyReaderTest.npy(1,
                NpyReaderTest.dict("<f4", false, "(2, 3)"), new byte[24]))).size());
    }

    @Test
    void anUnknownExtensionIsNamed() {
        Path file = TestFiles.write(dir, "scan.xyz", new byte[16]);
        assertMalformed(file, () -> PointClouds.read(file), "no point-cloud extension ('.xyz')");
        Path bare = TestFiles.write(dir, "scan", new byte[16]);
        assertMalformed(bare, () -> PointClouds.read(bare), "(none)");
    }

    @Test
    void aPlyFileNamedPcdFailsAsAPcd() {
        Path file = TestFiles.write(dir, "mislabelled.pcd", PlyReaderTest.ply("binary_little_endian"));
        assertMalformed(file, () -> PointClouds.read(file), "not a PCD header line (not a PCD file?)");
    }

    @Test
    void bytesInMemoryReadAsTheFileDoes() throws Exception {
        byte[] bin = TestFiles.Bytes.le().f32(1).f32(2).f32(3).f32(0.5f).f32(-1).f32(0).f32(9).f32(0.25f).bytes();
        byte[] ply = PlyReaderTest.ply("binary_little_endian");
        byte[] pcd = TestFiles.ascii("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 2\nHEIGHT 1\nDATA ascii\n1 2 3\n4 5 6\n");
        byte[] npy = NpyReaderTest.npy(1, NpyReaderTest.dict("<f4", false, "(2, 3)"), new byte[24]);
        byte[] npz = java.util.Base64.getDecoder().decode(NpyReaderTest.NUMPY_NPZ_DEFLATED);
        String[][] cases = {{"000001.bin", "bin"}, {"mesh.ply", ".PLY"}, {"c.pcd", "pcd"}, {"p.npy", "npy"},
                {"d.npz", "npz"}};
        byte[][] contents = {bin, ply, pcd, npy, npz};
        for (int i = 0; i < cases.length; i++) {
            PointCloud fromFile = PointClouds.read(TestFiles.write(dir, cases[i][0], contents[i]));
            TestFiles.assertSameCloud(fromFile, PointClouds.read(contents[i].clone(), cases[i][0]));
            TestFiles.assertSameCloud(fromFile, PointClouds.read(contents[i].clone(), cases[i][1]));
        }
    }

    @Test
    void emptyInputIsAnErrorNamingTheSource() {
        Path empty = TestFiles.write(dir, "empty.bin", new byte[0]);
        MalformedInputException e = assertMalformed(empty, () -> PointClouds.read(empty), "is empty (0 bytes)");
        assertTrue(e.getMessage().contains("KITTI"), e.getMessage());
        MalformedInputException inMemory = assertThrows(MalformedInputException.class,
                () -> PointClouds.read(new byte[0], "s3://bucket/sweep-7.bin"));
        assertTrue(inMemory.getMessage().contains("s3://bucket/sweep-7.bin"), inMemory.getMessage());
        // A well-formed file of no points is refused by name too.
        Path none = TestFiles.write(dir, "none.pcd", TestFiles.ascii(
                "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 0\nHEIGHT 1\nPOINTS 0\nDATA ascii\n"));
        assertMalformed(none, () -> PointClouds.read(none), "holds no points");
    }

    @Test
    void truncatedAndUnknownBytesAreNamed() {
        byte[] cut = TestFiles.Bytes.le().f32(1).f32(2).f32(3).bytes();
        MalformedInputException truncated = assertThrows(MalformedInputException.class,
                () -> PointClouds.read(cut, "scan-42.bin"));
        assertTrue(truncated.getMessage().contains("scan-42.bin") && truncated.getMessage().contains("truncated?"),
                truncated.getMessage());
        MalformedInputException unknown = assertThrows(MalformedInputException.class,
                () -> PointClouds.read(cut, "scan.las"));
        assertTrue(unknown.getMessage().contains("'.las'") && unknown.getMessage().contains(PointClouds.KNOWN_FORMATS),
                unknown.getMessage());
        assertThrows(MalformedInputException.class, () -> PointClouds.read(null, "scan.bin"));
        assertThrows(MalformedInputException.class, () -> PointClouds.read(cut, " "));
    }
}
