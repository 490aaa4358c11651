package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.cpu.SpecialFunctions;
import org.lacuna.runtime.ops.Activation;

/**
 * The fp32 exp, erf and GELU against double precision ({@link Math#exp}, {@link SpecialFunctions}), and the Vector
 * API versions against the scalar ones bit for bit.
 */
class ElementMathTest {
    private static final int SAMPLES = 200_001;

    @Test
    void expIsWithinTwoUlpsAndBothPathsGiveTheSameBits() {
        float[] xs = new float[SAMPLES + 6];
        for (int i = 0; i < SAMPLES; i++) {
            xs[i] = -90f + 180f * i / (SAMPLES - 1);
        }
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 88.37626f, -87.33654f};
        System.arraycopy(specials, 0, xs, SAMPLES, specials.length);
        float[] vector = new float[xs.length];
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        int bound = FloatVector.SPECIES_PREFERRED.loopBound(xs.length);
        for (int i = 0; i < bound; i += lanes) {
            VectorMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, xs, i)).intoArray(vector, i);
        }
        for (int i = 0; i < bound; i++) {
            float scalar = ScalarMath.exp(xs[i]);
            assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(vector[i]), "exp(" + xs[i] + ")");
            double exact = Math.exp(xs[i]);
            if (xs[i] > ScalarMath.EXP_MAX) {
                assertEquals(Float.POSITIVE_INFINITY, scalar, "exp(" + xs[i] + ") overflows");
            } else if (exact >= 0x1p-126 || Double.isNaN(exact)) {
                assertEquals(exact, scalar, 2 * Math.ulp((float) exact), "exp(" + xs[i] + ")");
            } else {
                assertEquals(0f, scalar, "exp(" + xs[i] + ") flushes to zero");
            }
        }
    }

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
    void geluMatchesTheReferenceAndBothPathsGiveTheSameBits() {
        float[] xs = new float[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            xs[i] = -12f + 24f * i / (SAMPLES - 1);
        }
        float[] vector = xs.clone();
        VectorMath.geluInPlace(vector, 0, vector.length);
        for (int i = 0; i < SAMPLES; i++) {
            double exact = Activation.GELU.apply(xs[i]);
            double tolerance = 4 * Math.ulp((float) exact) + 5e-7;
            float scalar = ScalarMath.gelu(xs[i]);
            assertEquals(exact, scalar, tolerance, "scalar gelu(" + xs[i] + ")");
            assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(vector[i]), "vector gelu(" + xs[i] + ")");
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
