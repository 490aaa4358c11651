package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.api.io.Safetensors;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.Int3;

class ModelWeightsTest {
    @Test
    void randomValuesDependOnSeedAndKeyNotOnOrder() {
        ModelWeights a = ModelWeights.random(5);
        ModelWeights b = ModelWeights.random(5);
        long[] shape = {27, 16, 32};
        float[] a1 = a.take("x", ModelWeights.Init.HE_NORMAL, 27 * 16, shape);
        float[] a2 = a.take("y", ModelWeights.Init.HE_NORMAL, 27 * 16, shape);
        float[] b2 = b.take("y", ModelWeights.Init.HE_NORMAL, 27 * 16, shape);
        float[] b1 = b.take("x", ModelWeights.Init.HE_NORMAL, 27 * 16, shape);
        assertArrayEquals(a1, b1);
        assertArrayEquals(a2, b2);
        assertTrue(!java.util.Arrays.equals(a1, a2));
        double sum = 0;
        double squares = 0;
        for (float v : a1) {
            sum += v;
            squares += v * v;
        }
        double mean = sum / a1.length;
        double std = Math.sqrt(squares / a1.length - mean * mean);
        assertEquals(0, mean, 0.01);
        assertEquals(Math.sqrt(2.0 / (27 * 16)), std, 0.003, "He-normal: std √(2 / fan-in)");
        assertArrayEquals(new float[] {1, 1}, a.take("g", ModelWeights.Init.ONES, 0, new long[] {2}));
        assertArrayEquals(new float[] {0, 0}, a.take("z", ModelWeights.Init.ZEROS, 0, new long[] {2}));
        assertEquals(List.of("x", "y", "g", "z"), List.copyOf(a.taken().keySet()));
        String m = assertThrows(InvalidInputException.class,
                () -> a.take("x", ModelWeights.Init.ZEROS, 0, new long[] {1})).getMessage();
        assertTrue(m.contains("'x'") && m.contains("twice"), m);
    }

    @Test
    void torchSparseOddKernelsAreReorderedToLacunasOffsetOrder() {
        // Each TorchSparse offset's weight holds its own TorchSparse index: x fastest, z slowest.
        float[] stored = new float[27 * 2];
        for (int t = 0; t < 27; t++) {
            stored[2 * t] = t;
            stored[2 * t + 1] = 100 + t;
        }
        Map<String, Safetensors.Entry> file = Map.of(
                "k3", new Safetensors.Entry("k3", "F32", new long[] {27, 1, 2}, stored),
                "k2", new Safetensors.Entry("k2", "F32", new long[] {8, 1, 2}, java.util.Arrays.copyOf(stored, 16)),
                "stage1.0.num_batches_tracked", new Safetensors.Entry("n", "I64", new long[0], new float[] {3}),
                "point_transforms.0.0.weight", new Safetensors.Entry("p", "F32", new long[] {1}, new float[1]));
        ModelWeights w = ModelWeights.of(file, "ts").withKernelOrder(ModelWeights.KernelOrder.TORCHSPARSE_V1);
        ConvGeometry k3 = ConvGeometry.submanifold(3);
        float[] lacuna = w.kernel("k3", k3, 1, 2);
        for (int v = 0; v < 27; v++) {
            Int3 o = k3.offset(v);
            int t = ((o.z() + 1) * 3 + o.y() + 1) * 3 + o.x() + 1;
            assertEquals(t, lacuna[2 * v], "offset " + o);
            assertEquals(100 + t, lacuna[2 * v + 1], "offset " + o);
        }
        assertArrayEquals(lacuna, w.taken().get("k3").values(), "taken() holds Lacuna's order");
        assertArrayEquals(java.util.Arrays.copyOf(stored, 16), w.kernel("k2", ConvGeometry.strided(2, 2), 1, 2),
                "even kernels share Lacuna's order");
        assertEquals(List.of("point_transforms.0.0.weight"), w.unused(), "counters are not reported unused");
    }

    @Test
    void acceptsTorchSparsesFlatOneByOneKernel() {
        float[] flat = {1, 2, 3, 4, 5, 6};
        ModelWeights w = ModelWeights.of(Map.of("d", new Safetensors.Entry("d", "F32", new long[] {2, 3}, flat)), "f");
        assertArrayEquals(flat, w.kernel("d", ConvGeometry.submanifold(1), 2, 3));
        assertArrayEquals(new long[] {1, 2, 3}, w.taken().get("d").shape());
        String m = assertThrows(InvalidInputException.class,
                () -> ModelWeights.of(Map.of("d", new Safetensors.Entry("d", "F32", new long[] {3, 2}, flat)), "f")
                        .kernel("d", ConvGeometry.submanifold(1), 2, 3)).getMessage();
        assertTrue(m.contains("'d'") && m.contains("[3, 2]") && m.contains("[1, 2, 3] or [2, 3]"), m);
    }
}
