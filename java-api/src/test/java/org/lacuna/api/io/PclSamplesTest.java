package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * Real PCD files written by PCL itself, from Debian's python3-pcl package (BSD-3): installed, they lie under
 * {@value #DEBIAN_FOLDER}; elsewhere pass {@code -Dlacuna.pcl.samples=FOLDER} (the package's
 * {@code pcldata/tutorials}). Skipped when absent: the build never fetches them. The expected figures were computed
 * independently with numpy and a separate LZF decoder.
 */
class PclSamplesTest {
    static final String DEBIAN_FOLDER = "/usr/share/doc/python3-pcl/examples/pcldata/tutorials";

    private static Path sample(String name) {
        Path folder = Path.of(System.getProperty("lacuna.pcl.samples", DEBIAN_FOLDER));
        Path file = folder.resolve(name);
        Assumptions.assumeTrue(Files.isRegularFile(file), file + " is absent (Debian python3-pcl, or"
                + " -Dlacuna.pcl.samples=FOLDER); skipping");
        return file;
    }

    @Test
    void tableSceneLms400IsBinaryCompressedAndReadsWhole() {
        Path file = sample("table_scene_lms400.pcd");
        assertEquals(PcdHeader.Encoding.BINARY_COMPRESSED, PcdReader.readHeader(file).encoding());
        PointCloud cloud = PcdReader.read(file);
        assertEquals(460_400, cloud.size());
        assertEquals(List.of("intensity", "distance", "sid"), cloud.channelNames());
        PointCloud.Bounds b = cloud.bounds();
        assertEquals(-1.1263, b.minX(), 1e-4);
        assertEquals(0.9297, b.maxX(), 1e-4);
        assertEquals(-0.6922, b.minY(), 1e-4);
        assertEquals(0.5333, b.maxY(), 1e-4);
        assertEquals(-1.9211, b.minZ(), 1e-4);
        assertEquals(-1.0252, b.maxZ(), 1e-4);
        assertEquals(19.368267, mean(cloud.channel("intensity")), 1e-6);
        assertEquals(1.366855, mean(cloud.channel("distance")), 1e-6);
        assertEquals(345.430276, mean(cloud.channel("sid")), 1e-6);
    }

    @Test
    void anOrganisedColourCloudKeepsItsNaNPoints() {
        PointCloud cloud = PcdReader.read(sample("table_scene_mug_stereo_textured.pcd"));
        assertEquals(640 * 480, cloud.size());
        assertEquals(209_280, cloud.finitePoints().size());
        assertEquals(List.of("red", "green", "blue"), cloud.channelNames());
    }

    private static double mean(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum / values.length;
    }
}
