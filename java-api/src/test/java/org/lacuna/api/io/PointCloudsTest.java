package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lacuna.api.io.TestFiles.assertMalformed;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
}
