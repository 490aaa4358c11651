package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;

class SparseReLUTest {
    @Test
    void clampsNegativesKeepsCoordinatesAndType() {
        try (Session session = Lacuna.open("cpu", 0)) {
            Random random = new Random(3);
            int[] coords = RandomSparse.coordinates(random, 30, 2, -2, 5, 2);
            float[] features = RandomSparse.floats(random, 30 * 4);
            SparseTensor x = SparseTensor.of(session, coords, features, 4, DType.F16, 2, 2, 2);
            SparseTensor y = new SparseReLU().forward(x);
            assertEquals(DType.F16, y.featureType());
            assertSame(x.coordinateSet(), y.coordinateSet());
            assertArrayEquals(new int[] {2, 2, 2}, y.tensorStride());
            float[] in = x.features().toFloatArray();
            float[] want = new float[in.length];
            for (int i = 0; i < in.length; i++) {
                want[i] = Math.max(in[i], 0f);
            }
            assertArrayEquals(want, y.features().toFloatArray());
        }
    }
}
