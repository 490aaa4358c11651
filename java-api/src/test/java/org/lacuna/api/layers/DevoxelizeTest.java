package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.ops.PointInterpolation;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;

class DevoxelizeTest {
    private Session session;

    @BeforeEach
    void open() {
        session = Lacuna.open("cpu", 0);
    }

    @AfterEach
    void close() {
        session.close();
    }

    @Test
    void handCheckedNearestAndTrilinear() {
        // Voxels of size 0.5 at x = 0 and x = 1 (centres 0.25 and 0.75); y, z one cell.
        Voxelization vox = Voxelization.cubic(0.5, VoxelReduction.MEAN);
        SparseTensor v = SparseTensor.of(session, new int[] {0, 0, 0, 0, 0, 1, 0, 0}, new float[] {2, 6}, 1,
                DType.F32, 1, 1, 1);
        // Point at x = 0.375 (grid 0.75): between centres at 0.5 and 1.5 of grid -> weights 0.75 / 0.25.
        // y, z at the cell centre (grid 0.5): their second neighbours have weight 0 or are absent.
        PointCloud points = PointCloud.of(new float[] {0.375f, 0.1f, 0.74f}, new float[] {0.25f, 0.25f, 0.25f},
                new float[] {0.25f, 0.25f, 0.25f});
        float[] nearest = new Devoxelize(vox, PointInterpolation.NEAREST).forward(v, points).toFloatArray();
        assertArrayEquals(new float[] {2, 2, 6}, nearest);
        float[] tri = new Devoxelize(vox, PointInterpolation.TRILINEAR).forward(v, points).toFloatArray();
        // 0.375: u = 0.25 -> 0.75*2 + 0.25*6 = 3; 0.1: u = -0.3, left neighbour absent -> 2; 0.74: u = 0.98 -> 5.92
        assertArrayEquals(new float[] {3f, 2f, 5.92f}, tri, 1e-4f);
    }

    @Test
    void randomCloudAgainstReference() {
        Random random = new Random(17);
        int n = 300;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextFloat() * 3 - 1.5f;
            y[i] = random.nextFloat() * 3 - 1.5f;
            z[i] = random.nextFloat() * 2;
        }
        PointCloud cloud = PointCloud.of(x, y, z);
        Voxelization vox = Voxelization.cubic(0.4, VoxelReduction.MEAN);
        SparseTensor v = SparseTensor.voxelize(session, cloud, vox, VoxelFeatures.POSITIONS, DType.F32);
        float[] means = v.features().toFloatArray();
        int[] coords = v.coordinates().toIntArray();
        int c = (int) v.channels();
        float[] nearest = new Devoxelize(vox, PointInterpolation.NEAREST).forward(v, cloud).toFloatArray();
        float[] tri = new Devoxelize(vox, PointInterpolation.TRILINEAR).forward(v, cloud).toFloatArray();
        for (int p = 0; p < n; p++) {
            double[] g = {x[p] / 0.4, y[p] / 0.4, z[p] / 0.4};
            double total = 0;
            double[] acc = new double[c];
            for (int r = 0; r < coords.length / 4; r++) {
                boolean own = true;
                double w = 1;
                for (int a = 0; a < 3; a++) {
                    own &= coords[4 * r + 1 + a] == (int) Math.floor(g[a]);
                    w *= Math.max(0, 1 - Math.abs(g[a] - (coords[4 * r + 1 + a] + 0.5)));
                }
                if (own) {
                    for (int ch = 0; ch < c; ch++) {
                        assertEquals(means[r * c + ch], nearest[p * c + ch], "point " + p);
                    }
                }
                total += w;
                for (int ch = 0; ch < c; ch++) {
                    acc[ch] += w * means[r * c + ch];
                }
            }
            for (int ch = 0; ch < c; ch++) {
                assertEquals(acc[ch] / total, tri[p * c + ch], 1e-4, "point " + p);
            }
        }
    }

    @Test
    void pointsFindTheVoxelsOfTheirOwnBatchSample() {
        // The same voxel (0, 0, 0) in samples 0 and 1 with different features, and (1, 0, 0) only in sample 1.
        SparseTensor v = SparseTensor.of(session, new int[] {0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0},
                new float[] {1, 5, 9}, 1, DType.F32, 1, 1, 1);
        PointCloud a = PointCloud.of(new float[] {0.75f}, new float[] {0.5f}, new float[] {0.5f});
        PointCloud both = PointCloud.batchOf(java.util.List.of(a, a));
        Voxelization vox = Voxelization.cubic(1, VoxelReduction.MEAN);
        assertArrayEquals(new float[] {1, 5},
                new Devoxelize(vox, PointInterpolation.NEAREST).forward(v, both).toFloatArray());
        // x = 0.75: u = 0.25, weights 0.75 / 0.25 on x = 0 / 1; sample 0 has no x = 1, so it keeps its own voxel.
        assertArrayEquals(new float[] {1, 0.75f * 5 + 0.25f * 9},
                new Devoxelize(vox, PointInterpolation.TRILINEAR).forward(v, both).toFloatArray(), 1e-5f);
    }

    @Test
    void aPointWithoutItsVoxelFailsNamingIt() {
        SparseTensor v = SparseTensor.of(session, new int[] {0, 0, 0, 0}, new float[] {1}, 1, DType.F32, 1, 1, 1);
        PointCloud far = PointCloud.of(new float[] {0.5f, 9f}, new float[] {0.5f, 0f}, new float[] {0.5f, 0f});
        Voxelization vox = Voxelization.cubic(1, VoxelReduction.MEAN);
        for (PointInterpolation mode : PointInterpolation.values()) {
            String m = assertThrows(InvalidInputException.class, () -> new Devoxelize(vox, mode).forward(v, far))
                    .getMessage();
            assertTrue(m.contains("point 1 (9.0") && m.contains("voxel (9, 0, 0)"), m);
        }
    }
}
