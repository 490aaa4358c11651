package org.lacuna.runtime.testing;

import java.util.SplittableRandom;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

/** Fresh random inputs for every run; the seed is printed so a failure can be replayed with -Dlacuna.test.seed. */
public final class TestData {
    private TestData() {
    }

    public static SplittableRandom random(String testName) {
        long seed = Long.getLong("lacuna.test.seed", System.nanoTime());
        System.out.println(testName + ": seed " + seed + " (replay with -Dlacuna.test.seed=" + seed + ")");
        return new SplittableRandom(seed);
    }

    /** Uniform in [-range, range), never all zeros, already representable in {@code dtype}. */
    public static float[] uniform(SplittableRandom random, int count, float range, DType dtype) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = HalfFloats.roundTo(dtype, (float) ((random.nextDouble() * 2 - 1) * range));
        }
        if (count > 0 && values[0] == 0f) {
            values[0] = HalfFloats.roundTo(dtype, range / 3);
        }
        return values;
    }

    /** One unit in the last place of {@code value} in {@code dtype}. */
    public static double ulp(DType dtype, double value) {
        double magnitude = Math.max(Math.abs(value), switch (dtype) {
            case F16 -> 6.1e-5;
            case BF16 -> 1.2e-38;
            default -> 1.2e-38;
        });
        return switch (dtype) {
            case F32 -> Math.ulp((float) magnitude);
            case F16 -> Math.scalb(1.0, Math.getExponent(magnitude) - 10);
            case BF16 -> Math.scalb(1.0, Math.getExponent(magnitude) - 7);
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }
}
