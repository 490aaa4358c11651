package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The softmax's exp, scalar and vector, against the correctly rounded exp (Math.exp in double, rounded once). */
class FastExpTest {
    private static final VectorSpecies<Float> SPECIES = VectorExp.SPECIES; // the species VectorExp.exp takes

    /** ulps between two floats of one sign (or zero): the distance in representable values. */
    private static long ulps(float a, float b) {
        return Math.abs((long) Float.floatToRawIntBits(a) - Float.floatToRawIntBits(b));
    }

    @Test
    void withinTwoUlpOverTheWholeRangeAndEveryLaneMatchesTheScalarForm() {
        SplittableRandom random = new SplittableRandom(20250610);
        int count = 1 << 20;
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            // Half uniform over the softmax's range (x <= 0), half over the whole representable range.
            x[i] = i % 2 == 0 ? (float) random.nextDouble(-30, 0) : (float) random.nextDouble(-103.9, 88.7);
        }
        float[] vector = new float[count];
        for (int i = 0; i < count; i += SPECIES.length()) {
            VectorExp.exp(FloatVector.fromArray(SPECIES, x, i)).intoArray(vector, i);
        }
        long worstNormal = 0;
        for (int i = 0; i < count; i++) {
            float want = (float) Math.exp(x[i]);
            float scalar = FastExp.exp(x[i]);
            assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(vector[i]), "lane of x = " + x[i]);
            if (want >= Float.MIN_NORMAL) {
                worstNormal = Math.max(worstNormal, ulps(want, scalar));
            } else {
                // Subnormal results: one rounding of an accurate value, so within a unit of the smallest subnormal.
                assertTrue(ulps(want, scalar) <= 1, "subnormal exp(" + x[i] + ") = " + scalar + ", want " + want);
            }
        }
        assertTrue(worstNormal <= 2, "worst error " + worstNormal + " ulp");
    }

    @Test
    void edgesBehaveAsTheSoftmaxNeeds() {
        float[] x = {Float.NEGATIVE_INFINITY, -200f, 0f, -0f, 1f, 88.7f, 89f, 1000f, Float.POSITIVE_INFINITY, Float.NaN,
            -87.33655f, -103.97f, 1e-8f, -1e-8f, 0.5f * (float) Math.log(2), -0.5f * (float) Math.log(2)};
        float[] padded = java.util.Arrays.copyOf(x, Math.max(SPECIES.length(), x.length) + SPECIES.length());
        float[] vector = new float[padded.length];
        for (int i = 0; i + SPECIES.length() <= padded.length; i += SPECIES.length()) {
            VectorExp.exp(FloatVector.fromArray(SPECIES, padded, i)).intoArray(vector, i);
        }
        for (int i = 0; i < x.length; i++) {
            float got = FastExp.exp(x[i]);
            assertEquals(Float.floatToRawIntBits(got), Float.floatToRawIntBits(vector[i]), "lane of x = " + x[i]);
            float want = (float) Math.exp(x[i]);
            if (Float.isNaN(want) || Float.isInfinite(want) || want == 0f || want == 1f) {
                assertEquals(want, got, 0f, "exp(" + x[i] + ")");
            } else {
                assertTrue(ulps(want, got) <= 2, "exp(" + x[i] + ") = " + got + ", want " + want);
            }
        }
    }
}
