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
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.Int3;

class BevProjectionTest {
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
    void handCheckedColumnAtStrideTwo() {
        // Grid of 2x1x2 cells of stride 2 from origin (-2, 0, 0): x -2 -> cell 0, x 0 -> cell 1; z 0 / 2 -> 0 / 1.
        int[] coords = {0, 0, 0, 0, 0, 0, 0, 2, 0, -2, 0, 2};
        float[] f = {1, 10, 2, 20, 3, 30};
        SparseTensor x = SparseTensor.of(session, coords, f, 2, DType.F32, 2, 2, 2);
        Int3 origin = Int3.of(-2, 0, 0);
        Int3 cells = Int3.of(2, 1, 2);
        Tensor stack = new BevProjection(origin, cells, BevReduction.STACK_Z).forward(x);
        assertArrayEquals(new long[] {1, 4, 1, 2}, stack.shape().dims());
        // channel c*Z + z, pixel x: (c0 z0) [0, 1], (c0 z1) [3, 2], (c1 z0) [0, 10], (c1 z1) [30, 20]
        assertArrayEquals(new float[] {0, 1, 3, 2, 0, 10, 30, 20}, stack.toFloatArray());
        Tensor sum = new BevProjection(origin, cells, BevReduction.SUM).forward(x);
        assertArrayEquals(new float[] {3, 3, 30, 30}, sum.toFloatArray());
        Tensor max = new BevProjection(origin, cells, BevReduction.MAX).forward(x, 2);
        assertArrayEquals(new long[] {2, 2, 1, 2}, max.shape().dims());
        assertArrayEquals(new float[] {3, 2, 30, 20, 0, 0, 0, 0}, max.toFloatArray());
    }

    @Test
    void randomAgainstDenseReference() {
        Random random = new Random(21);
        int n = 100;
        int c = 2;
        int[] coords = RandomSparse.coordinates(random, n, 2, -3, 6, 1);
        float[] f = RandomSparse.floats(random, n * c);
        SparseTensor x = SparseTensor.of(session, coords, f, c, DType.F32, 1, 1, 1);
        Int3 origin = Int3.of(-3, -3, -3);
        Int3 cells = Int3.of(6, 6, 6);
        float[] dense = new float[2 * c * 6 * 6 * 6]; // [b, c, z, y, x]
        boolean[] present = new boolean[dense.length];
        for (int r = 0; r < n; r++) {
            for (int ch = 0; ch < c; ch++) {
                int i = (((coords[4 * r] * c + ch) * 6 + coords[4 * r + 3] + 3) * 6 + coords[4 * r + 2] + 3) * 6
                        + coords[4 * r + 1] + 3;
                dense[i] = f[r * c + ch];
                present[i] = true;
            }
        }
        float[] stack = new BevProjection(origin, cells, BevReduction.STACK_Z).forward(x).toFloatArray();
        assertArrayEquals(dense, stack, "STACK_Z is the dense volume viewed as [b, c*z, y, x]");
        float[] sum = new BevProjection(origin, cells, BevReduction.SUM).forward(x).toFloatArray();
        float[] max = new BevProjection(origin, cells, BevReduction.MAX).forward(x).toFloatArray();
        for (int bc = 0; bc < 2 * c; bc++) {
            for (int pixel = 0; pixel < 36; pixel++) {
                double s = 0;
                double m = Double.NEGATIVE_INFINITY;
                for (int z = 0; z < 6; z++) {
                    int i = (bc * 6 + z) * 36 + pixel;
                    s += dense[i];
                    m = present[i] ? Math.max(m, dense[i]) : m;
                }
                assertEquals(s, sum[bc * 36 + pixel], 1e-5);
                assertEquals(m == Double.NEGATIVE_INFINITY ? 0 : m, max[bc * 36 + pixel], 0.0);
            }
        }
    }

    @Test
    void outsideTheExtentFailsNamingTheRow() {
        SparseTensor x = SparseTensor.of(session, new int[] {0, 0, 0, 0, 0, 5, 0, 0}, new float[2], 1, DType.F32,
                1, 1, 1);
        String m = assertThrows(InvalidInputException.class, () -> new BevProjection(Int3.of(0, 0, 0),
                Int3.of(4, 4, 1), BevReduction.SUM).forward(x)).getMessage();
        assertTrue(m.contains("row 1") && m.contains("(0, 5, 0, 0)"), m);
    }
}
