package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.sparseconv.Int3;

class VoxelBackboneBevTest {
    @Test
    void producesTheBevMapOfTheGridDeterministically() {
        try (Session session = Lacuna.open("cpu", 0)) {
            Random random = new Random(2);
            java.util.LinkedHashSet<java.util.List<Integer>> rows = new java.util.LinkedHashSet<>();
            while (rows.size() < 200) {
                rows.add(java.util.List.of(random.nextInt(2), random.nextInt(40) - 20, random.nextInt(32),
                        random.nextInt(20) - 4));
            }
            int[] coords = rows.stream().flatMap(java.util.List::stream).mapToInt(Integer::intValue).toArray();
            float[] features = new float[200 * 4];
            for (int i = 0; i < features.length; i++) {
                features[i] = random.nextFloat();
            }
            SparseTensor x = SparseTensor.of(session, coords, features, 4, DType.F32, 1, 1, 1);
            // x in [-20, 20) spans cells -3..2 at stride 8 (6), y [0, 32) 4 cells, z [-4, 16) cells -1..0 at stride 16 (2).
            VoxelBackboneBev.Config config = new VoxelBackboneBev.Config(4, Int3.of(-20, 0, -4), Int3.of(40, 32, 20),
                    DType.F32);
            float[] first;
            try (VoxelBackboneBev net = VoxelBackboneBev.create(session, config, ModelWeights.random(3))) {
                assertArrayEquals(new long[] {256, 4, 6}, net.mapShape());
                Tensor map = net.forward(x, 3);
                assertArrayEquals(new long[] {3, 256, 4, 6}, map.shape().dims());
                first = map.toFloatArray();
                assertTrue(net.parameters().containsKey("conv4.2.1.running_var"));
                assertArrayEquals(new long[] {3, 128, 128}, net.parameters().get("conv_out.0.weight").shape());
            }
            int perSample = 256 * 4 * 6;
            boolean filled = false;
            for (int i = 0; i < perSample; i++) {
                filled |= first[i] != 0;
                assertTrue(first[2 * perSample + i] == 0, "the empty third sample maps to zeros");
            }
            assertTrue(filled, "sample 0 has features");
            try (VoxelBackboneBev again = VoxelBackboneBev.create(session, config, ModelWeights.random(3))) {
                assertArrayEquals(first, again.forward(x, 3).toFloatArray());
            }
        }
    }
}
