package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lacuna.api.io.TestFiles.assertMalformed;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.pointcloud.PointCloud;

class KittiBinReaderTest {
    @TempDir
    Path dir;

    private static byte[] twoPoints() {
        return TestFiles.Bytes.le()
                .f32(1.5f).f32(-2.25f).f32(0.125f).f32(0.5f)
                .f32(-79.5f).f32(77f).f32(-13f).f32(0.99f)
                .bytes();
    }

    @Test
    void readsLittleEndianRecordsWithReflectance() {
        PointCloud cloud = KittiBinReader.read(TestFiles.write(dir, "scan.bin", twoPoints()));
        assertArrayEquals(new float[] {1.5f, -79.5f}, cloud.xs());
        assertArrayEquals(new float[] {-2.25f, 77f}, cloud.ys());
        assertArrayEquals(new float[] {0.125f, -13f}, cloud.zs());
        assertEquals(List.of("reflectance"), cloud.channelNames());
        assertArrayEquals(new float[] {0.5f, 0.99f}, cloud.channel("reflectance"));
    }

    @Test
    void aSizeThatIsNotWholePointsNamesTheFileAndTheByteCount() {
        byte[] bytes = java.util.Arrays.copyOf(twoPoints(), 37);
        Path file = TestFiles.write(dir, "cut.bin", bytes);
        assertMalformed(file, () -> KittiBinReader.read(file), "is 37 bytes, not a multiple of 16",
                "2 whole points and 5 bytes left over");
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("absent.bin");
        assertMalformed(file, () -> KittiBinReader.read(file), "no such file");
    }

    @Test
    void anEmptyFileIsAnErrorNamingIt() {
        Path file = TestFiles.write(dir, "empty.bin", new byte[0]);
        assertMalformed(file, () -> KittiBinReader.read(file), "is empty (0 bytes)");
    }

    @Test
    void everyCutReadsTheWholePointsBeforeItOrFailsNamingTheFile() {
        byte[] valid = twoPoints();
        for (int length = 0; length < valid.length; length++) {
            Path file = TestFiles.write(dir, "t.bin", java.util.Arrays.copyOf(valid, length));
            if (length == 0) {
                assertMalformed(file, () -> KittiBinReader.read(file), "is empty");
            } else if (length % 16 == 0) {
                assertEquals(length / 16, KittiBinReader.read(file).size());
            } else {
                assertMalformed(file, () -> KittiBinReader.read(file), "is " + length + " bytes");
            }
        }
    }
}
