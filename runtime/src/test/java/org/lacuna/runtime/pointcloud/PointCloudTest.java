package org.lacuna.runtime.pointcloud;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;

class PointCloudTest {
    @Test
    void channelMismatchesAreShapeErrorsNamingTheChannel() {
        var e = assertThrows(InvalidInputException.class, () -> PointCloud.of(new float[2], new float[2], new float[2],
                List.of("intensity"), new float[][] {new float[3]}));
        assertEquals(ErrorCode.SHAPE_MISMATCH, e.code());
        assertTrue(e.getMessage().contains("channel 'intensity' has 3 values but x has 2"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> PointCloud.of(new float[2], new float[1], new float[2]));
        assertThrows(InvalidInputException.class, () -> PointCloud.of(new float[1], new float[1], new float[1],
                List.of("a", "b"), new float[][] {new float[1]}));
        assertThrows(InvalidInputException.class, () -> PointCloud.of(new float[1], new float[1], new float[1],
                List.of("a", "a"), new float[][] {new float[1], new float[1]}));
    }

    @Test
    void batchingNeedsTheSameChannels() {
        PointCloud plain = PointCloud.of(new float[1], new float[1], new float[1]);
        PointCloud withIntensity = PointCloud.of(new float[1], new float[1], new float[1], List.of("intensity"),
                new float[][] {{0.5f}});
        var e = assertThrows(InvalidInputException.class, () -> PointCloud.batchOf(List.of(plain, withIntensity)));
        assertTrue(e.getMessage().contains("sample 1 has channels [intensity] but sample 0 has []"), e.getMessage());
        PointCloud batch = PointCloud.batchOf(List.of(plain, plain, plain));
        assertArrayEquals(new int[] {0, 1, 2}, batch.batchIndices());
        assertThrows(InvalidInputException.class, () -> plain.withBatch(CoordinateKey.MAX_BATCH + 1));
    }

    @Test
    void finitePointsKeepChannelsAndBatchesAligned() {
        PointCloud cloud = PointCloud.of(new float[] {1, Float.NaN, 3}, new float[] {1, 2, 3},
                new float[] {1, 2, Float.NEGATIVE_INFINITY}, List.of("i"), new float[][] {{10, 20, 30}});
        PointCloud batched = PointCloud.batchOf(List.of(cloud, cloud)).finitePoints();
        assertArrayEquals(new float[] {1, 1}, batched.xs());
        assertArrayEquals(new float[] {10, 10}, batched.channel("i"));
        assertArrayEquals(new int[] {0, 1}, batched.batchIndices());
        PointCloud.Bounds bounds = cloud.bounds();
        assertEquals(1f, bounds.minX());
        assertEquals(3f, bounds.maxY());
        assertEquals(2f, bounds.maxZ());
        assertThrows(InvalidInputException.class, () -> cloud.channel("reflectance"));
    }
}
