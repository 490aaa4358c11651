package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
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
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.Dataflow;

class SparseBatchNormTest {
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
    void handCheckedTwoChannels() {
        // channel 0: γ 2, β 1, μ 3, σ² 4 - ε -> (x - 3) / 2 * 2 + 1 = x - 2; channel 1: identity-ish shift only.
        double eps = 1e-3;
        SparseBatchNorm bn = SparseBatchNorm.of(new float[] {2f, 1f}, new float[] {1f, 0.5f}, new float[] {3f, 0f},
                new float[] {(float) (4 - eps), (float) (1 - eps)}, eps);
        SparseTensor x = SparseTensor.of(session, new int[] {0, 0, 0, 0, 0, 1, 0, 0}, new float[] {5f, -1f, 3f, 2f},
                2, DType.F32, 1, 1, 1);
        SparseTensor y = bn.forward(x);
        assertArrayEquals(new float[] {3f, -0.5f, 1f, 2.5f}, y.features().toFloatArray(), 1e-5f);
        assertSame(x.coordinateSet(), y.coordinateSet(), "the output keeps the coordinates and their maps");
    }

    @Test
    void randomAgainstFormulaAndFoldedIntoConvolution() {
        Random random = new Random(11);
        int c = 3;
        int[] coords = RandomSparse.coordinates(random, 40, 2, -3, 6, 1);
        float[] features = RandomSparse.floats(random, 40 * c);
        float[] gamma = RandomSparse.floats(random, c);
        float[] beta = RandomSparse.floats(random, c);
        float[] mean = RandomSparse.floats(random, c);
        float[] var = {0.5f, 1.5f, 2.5f};
        SparseBatchNorm bn = SparseBatchNorm.of(gamma, beta, mean, var, SparseBatchNorm.DEFAULT_EPSILON);
        SparseTensor x = SparseTensor.of(session, coords, features, c, DType.F32, 1, 1, 1);
        float[] got = bn.forward(x).features().toFloatArray();
        for (int i = 0; i < got.length; i++) {
            int ch = i % c;
            double want = gamma[ch] * (features[i] - mean[ch]) / Math.sqrt(var[ch] + 1e-5) + beta[ch];
            assertEquals(want, got[i], 1e-4, "value " + i);
        }
        // A 1x1x1 convolution (dataflow forced: MapStatistics' split-redundancy cannot split one offset in two) with the identity weight followed by the norm equals the conv with the norm folded in.
        float[] eye = new float[c * c];
        for (int i = 0; i < c; i++) {
            eye[i * c + i] = 1f;
        }
        try (SparseConv3d folded = SparseConv3d.create(session, ConvGeometry.submanifold(1), c, c, eye, null,
                bn.foldable(), SparseConv3d.Options.of(DType.F32).forcing(Dataflow.IMPLICIT_GEMM))) {
            assertArrayEquals(got, folded.forward(x).features().toFloatArray(), 1e-4f);
        }
    }

    @Test
    void rejectsMismatchedParametersAndChannels() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> SparseBatchNorm.of(new float[2],
                new float[2], new float[3], new float[2], 1e-5));
        assertTrue(e.getMessage().contains("2, 2, 3 and 2"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> SparseBatchNorm.of(new float[1], new float[1], new float[1],
                new float[] {-1f}, 1e-5));
        SparseTensor x = SparseTensor.of(session, new int[] {0, 0, 0, 0}, new float[] {1f}, 1, DType.F32, 1, 1, 1);
        e = assertThrows(InvalidInputException.class, () -> SparseBatchNorm.identity(4).forward(x));
        assertTrue(e.getMessage().contains("1 channels") && e.getMessage().contains("has 4"), e.getMessage());
    }
}
