package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.ops.BatchPooling;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;

class GlobalPoolingTest {
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
    void handCheckedMaxAndMeanWithAnEmptySample() {
        // batch 0: rows (1, -2) and (3, 4); batch 1 empty; batch 2: (-5, -6).
        int[] coords = {0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0};
        SparseTensor x = SparseTensor.of(session, coords, new float[] {1, -2, -5, -6, 3, 4}, 2, DType.F32, 1, 1, 1);
        Tensor max = new GlobalPooling(BatchPooling.MAX).forward(x);
        assertArrayEquals(new long[] {3, 2}, max.shape().dims());
        assertArrayEquals(new float[] {3, 4, 0, 0, -5, -6}, max.toFloatArray());
        Tensor mean = new GlobalPooling(BatchPooling.MEAN).forward(x, 4);
        assertArrayEquals(new float[] {2, 1, 0, 0, -5, -6, 0, 0}, mean.toFloatArray());
        assertThrows(InvalidInputException.class, () -> new GlobalPooling(BatchPooling.MEAN).forward(x, 2));
    }

    @Test
    void randomAgainstReference() {
        Random random = new Random(9);
        int n = 80;
        int c = 3;
        int[] coords = RandomSparse.coordinates(random, n, 3, -4, 8, 1);
        float[] f = RandomSparse.floats(random, n * c);
        SparseTensor x = SparseTensor.of(session, coords, f, c, DType.F32, 1, 1, 1);
        float[] max = new GlobalPooling(BatchPooling.MAX).forward(x, 3).toFloatArray();
        float[] mean = new GlobalPooling(BatchPooling.MEAN).forward(x, 3).toFloatArray();
        for (int b = 0; b < 3; b++) {
            for (int ch = 0; ch < c; ch++) {
                double m = Double.NEGATIVE_INFINITY;
                double s = 0;
                int count = 0;
                for (int r = 0; r < n; r++) {
                    if (coords[4 * r] == b) {
                        m = Math.max(m, f[r * c + ch]);
                        s += f[r * c + ch];
                        count++;
                    }
                }
                assertEquals(m, max[b * c + ch], 0.0);
                assertEquals(s / count, mean[b * c + ch], 1e-5);
            }
        }
    }
}
