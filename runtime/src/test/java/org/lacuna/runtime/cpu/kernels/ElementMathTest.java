package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.cpu.SpecialFunctions;
import org.lacuna.runtime.ops.Activation;

/** The fp32 erf and GELU of both paths against the double-precision {@link SpecialFunctions}. */
class ElementMathTest {
    private static final int SAMPLES = 200_001;

    @Test
    void erfIsWithinFourTenMillionthsEverywhere() {
        double worst = 0;
        for (int i = 0; i < SAMPLES; i++) {
            float z = -10f + 20f * i / (SAMPLES - 1);
            worst = Math.max(worst, Math.abs(ScalarMath.erf(z) - SpecialFunctions.erf(z)));
        }
        assertTrue(worst < 4e-7, "max |erf error| " + worst);
    }

    @Test
    void erfcKeepsItsRelativeAccuracyInTheTail() {
        for (float z = 0f; z < 9f; z += 0.001f) {
            double exact = 1 - SpecialFunctions.erf(z);
            if (exact > 1e-9) { // below this, 1 - erf in double no longer has 1e-7 relative digits of erfc
                // exp's fp32 argument (about -z²) carries an absolute rounding error of about 6e-8·z²: that bounds it.
                assertEquals(exact, ScalarMath.erfc(z), (1e-6 + 1.2e-7 * z * z) * exact, "erfc(" + z + ")");
            }
        }
    }

    @Test
    void geluOfBothPathsMatchesTheReferenceAndEachOther() {
        float[] xs = new float[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            xs[i] = -12f + 24f * i / (SAMPLES - 1);
        }
        float[] vector = xs.clone();
        VectorMath.geluInPlace(vector, 0, vector.length);
        for (int i = 0; i < SAMPLES; i++) {
            double exact = Activation.GELU.apply(xs[i]);
            double tolerance = 4 * Math.ulp((float) exact) + 5e-7;
            assertEquals(exact, ScalarMath.gelu(xs[i]), tolerance, "scalar gelu(" + xs[i] + ")");
            assertEquals(exact, vector[i], tolerance, "vector gelu(" + xs[i] + ")");
        }
        FloatVector specials = FloatVector.fromArray(FloatVector.SPECIES_128,
                new float[] {Float.NaN, Float.POSITIVE_INFINITY, -0f, 1e-30f}, 0);
        float[] out = VectorMath.gelu(specials).toArray();
        assertTrue(Float.isNaN(out[0]) && Float.isNaN(ScalarMath.gelu(Float.NaN)));
        assertEquals(Float.POSITIVE_INFINITY, out[1]);
        assertEquals(Float.POSITIVE_INFINITY, ScalarMath.gelu(Float.POSITIVE_INFINITY));
        assertEquals(-0f, out[2], "GELU(-0) is -0, as the reference's");
        assertEquals(5e-31f, out[3], 1e-37f);
    }
}
