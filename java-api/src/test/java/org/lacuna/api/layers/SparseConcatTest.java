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
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;

class SparseConcatTest {
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
    void concatenatesRowByRowOnEqualCoordinates() {
        int[] coords = {0, 0, 0, 0, 1, 2, 3, 4};
        SparseTensor a = SparseTensor.of(session, coords, new float[] {1, 2, 3, 4}, 2, DType.F32, 1, 1, 1);
        SparseTensor b = SparseTensor.of(session, coords, new float[] {5, 6, 7, 8, 9, 10}, 3, DType.F32, 1, 1, 1);
        SparseTensor y = SparseConcat.concat(a, b);
        assertEquals(5, y.channels());
        assertArrayEquals(new float[] {1, 2, 5, 6, 7, 3, 4, 8, 9, 10}, y.features().toFloatArray());
        assertArrayEquals(coords, y.coordinates().toIntArray());
    }

    @Test
    void randomAgainstReference() {
        Random random = new Random(5);
        int[] coords = RandomSparse.coordinates(random, 50, 3, -4, 8, 1);
        float[] fa = RandomSparse.floats(random, 50 * 3);
        float[] fb = RandomSparse.floats(random, 50);
        SparseTensor a = SparseTensor.of(session, coords, fa, 3, DType.F32, 1, 1, 1);
        SparseTensor b = SparseTensor.of(session, coords, fb, 1, DType.F32, 1, 1, 1);
        float[] got = SparseConcat.concat(a, b).features().toFloatArray();
        for (int r = 0; r < 50; r++) {
            for (int ch = 0; ch < 4; ch++) {
                assertEquals(ch < 3 ? fa[r * 3 + ch] : fb[r], got[r * 4 + ch]);
            }
        }
    }

    @Test
    void namesTheMismatch() {
        SparseTensor a = SparseTensor.of(session, new int[] {0, 0, 0, 0, 0, 1, 0, 0}, new float[2], 1, DType.F32,
                1, 1, 1);
        SparseTensor swapped = SparseTensor.of(session, new int[] {0, 1, 0, 0, 0, 0, 0, 0}, new float[2], 1,
                DType.F32, 1, 1, 1);
        SparseTensor fewer = SparseTensor.of(session, new int[] {0, 0, 0, 0}, new float[1], 1, DType.F32, 1, 1, 1);
        SparseTensor coarser = SparseTensor.of(session, new int[] {0, 0, 0, 0, 0, 2, 0, 0}, new float[2], 1,
                DType.F32, 2, 2, 2);
        SparseTensor half = SparseTensor.of(session, new int[] {0, 0, 0, 0, 0, 1, 0, 0}, new float[2], 1, DType.F16,
                1, 1, 1);
        String m = assertThrows(InvalidInputException.class, () -> SparseConcat.concat(a, swapped)).getMessage();
        assertTrue(m.contains("row 0") && m.contains("(0, 0, 0, 0)") && m.contains("(0, 1, 0, 0)"), m);
        m = assertThrows(InvalidInputException.class, () -> SparseConcat.concat(a, fewer)).getMessage();
        assertTrue(m.contains("2 coordinates against 1"), m);
        m = assertThrows(InvalidInputException.class, () -> SparseConcat.concat(a, coarser)).getMessage();
        assertTrue(m.contains("tensor stride"), m);
        m = assertThrows(InvalidInputException.class, () -> SparseConcat.concat(a, half)).getMessage();
        assertTrue(m.contains("F32") && m.contains("F16"), m);
    }
}
