package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The attention tiles' two products and softmax steps on the Vector API against the scalar form, bit for bit (the
 * sum of a row's exponentials, which the vector form folds in another order, within rounding): each
 * element of Q·Kᵀ and of P·V is one chain of fused multiply-adds in the summed index's order on both, so the generated
 * register tiles (four rows by four vectors, eight by two for the two vectors a head dim of 32 has on 512 bits, four by
 * two for a last row group) must not change a bit, at every head dim the kernels take and every row count a padded
 * query tile can have.
 */
class AttentionTileProductsTest {
    private static final int KEYS = AttentionTileMath.KEYS;
    private static final int[] HEAD_DIMS = {32, 64, 96, 128};
    /** Padded query tiles: one row group, two, an odd number of them, and a whole tile. */
    private static final int[] ROWS = {4, 8, 12, 20, 60, 64};

    @Test
    void vectorProductsGiveTheScalarBitsForEveryTileShape() {
        AttentionTileMath scalar = AttentionTileMath.of(false);
        AttentionTileMath vector = AttentionTileMath.of(true);
        SplittableRandom random = new SplittableRandom(32);
        for (int dim : HEAD_DIMS) {
            for (int rows : ROWS) {
                String what = "dim " + dim + " rows " + rows;
                int offset = 3 * dim; // the tile starts inside its arrays, as later query tiles of a block do
                float[] q = values(random, offset + rows * dim, 0);
                float[] kt = values(random, dim * KEYS, 0);
                float[] scalarScores = values(random, rows * KEYS, 0);
                float[] vectorScores = scalarScores.clone();
                scalar.scores(q, offset, kt, rows, dim, scalarScores);
                vector.scores(q, offset, kt, rows, dim, vectorScores);
                assertSameBits(scalarScores, vectorScores, what + " scores");

                // Probabilities with masked (zero) keys among them, onto an accumulator already holding values.
                float[] p = values(random, rows * KEYS, 0.25);
                float[] v = values(random, KEYS * dim, 0);
                float[] scalarOut = values(random, offset + rows * dim + dim, 0);
                float[] vectorOut = scalarOut.clone();
                scalar.accumulate(p, v, rows, dim, scalarOut, offset);
                vector.accumulate(p, v, rows, dim, vectorOut, offset);
                assertSameBits(scalarOut, vectorOut, what + " accumulate");

                for (int count : new int[] {1, 15, 16, 17, KEYS}) {
                    assertEquals(scalar.max(scalarScores, KEYS, count), vector.max(scalarScores, KEYS, count),
                            what + " max of " + count);
                }
                // A row across tiles, as the single pass takes it: the same maximum, and a sum of the same terms.
                float[][] tiles = {values(random, rows * KEYS, 0), values(random, rows * KEYS, 0),
                    values(random, rows * KEYS, 0)};
                for (int count : new int[] {1, 17, KEYS, KEYS + 1, 2 * KEYS + 15, 3 * KEYS}) {
                    int row = (rows - 1) * KEYS;
                    float max = scalar.max(tiles, tiles.length, row, count);
                    assertEquals(max, vector.max(tiles, tiles.length, row, count), what + " row max of " + count);
                    float[][] scalarTiles = copies(tiles);
                    float[][] vectorTiles = copies(tiles);
                    float scalarSum = scalar.expAndSum(scalarTiles, tiles.length, row, count, max);
                    float vectorSum = vector.expAndSum(vectorTiles, tiles.length, row, count, max);
                    assertEquals(scalarSum, vectorSum, 1e-6 * count, what + " row sum of " + count);
                    for (int t = 0; t < tiles.length; t++) {
                        assertSameBits(scalarTiles[t], vectorTiles[t], what + " row exponentials of " + count);
                    }
                }
            }
        }
    }

    private static float[][] copies(float[][] tiles) {
        float[][] copies = new float[tiles.length][];
        for (int t = 0; t < tiles.length; t++) {
            copies[t] = tiles[t].clone();
        }
        return copies;
    }

    /** Values in [-2, 2), none of them -0, with about {@code zeros} of them 0. */
    private static float[] values(SplittableRandom random, int count, double zeros) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextDouble() < zeros ? 0f : (float) random.nextDouble(-2, 2) + 0f;
        }
        return values;
    }

    private static void assertSameBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " at " + i);
        }
    }
}
