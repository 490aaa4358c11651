package org.lacuna.api.layers;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;

/** Random distinct coordinates and features for the point-cloud layer tests. */
final class RandomSparse {
    private RandomSparse() {
    }

    /** [n, 4] distinct rows (batch, x, y, z), each axis in [lo, lo + span) times {@code stride}. */
    static int[] coordinates(Random random, int n, int batches, int lo, int span, int stride) {
        LinkedHashSet<List<Integer>> rows = new LinkedHashSet<>();
        while (rows.size() < n) {
            rows.add(List.of(random.nextInt(batches), (lo + random.nextInt(span)) * stride,
                    (lo + random.nextInt(span)) * stride, (lo + random.nextInt(span)) * stride));
        }
        List<Integer> flat = new ArrayList<>();
        rows.forEach(flat::addAll);
        return flat.stream().mapToInt(Integer::intValue).toArray();
    }

    static float[] floats(Random random, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
