package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The attention tiles' widening of Q, K and V rows: the Vector API form gives the scalar form's bits for every 16-bit
 * pattern, scaled (Q) and transposed (K), in a packed QKV layout with a head offset; and their narrowing of output
 * rows, one head or a group's run, gives the scalar form's bits around every rounding edge.
 */
class AttentionWideningTest {
    private static final int HEAD_DIM = 32;
    private static final int HEADS = 2;
    /** Rows of one packed [rows, 3 · heads · headDim] QKV tensor that hold every pattern once per column range. */
    private static final int ROWS = (1 << 16) / (HEADS * HEAD_DIM);

    @Test
    void vectorWideningMatchesScalarForEveryPattern() {
        AttentionTileMath scalar = AttentionTileMath.of(false);
        AttentionTileMath vector = AttentionTileMath.of(true);
        long width = 3L * HEADS * HEAD_DIM;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment qkv = arena.allocate(2L * ROWS * width);
            for (long i = 0; i < ROWS * width; i++) {
                qkv.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (i * 7919));
            }
            for (boolean bf16 : new boolean[] {false, true}) {
                for (int part = 0; part < 3; part++) {
                    HalfMatrix m = new HalfMatrix(qkv, 0, bf16, width, (long) part * HEADS * HEAD_DIM);
                    float[] a = new float[HEAD_DIM + 5];
                    float[] b = new float[HEAD_DIM + 5];
                    float[] at = new float[HEAD_DIM * 4];
                    float[] bt = new float[HEAD_DIM * 4];
                    short[] bits = new short[HEAD_DIM];
                    float[] row = new float[HEAD_DIM];
                    for (int r = 0; r < ROWS; r++) {
                        for (int h = 0; h < HEADS; h++) {
                            scalar.widen(m, r, h, HEAD_DIM, HEAD_DIM, 0.17677669f, bits, a, 5);
                            vector.widen(m, r, h, HEAD_DIM, HEAD_DIM, 0.17677669f, bits, b, 5);
                            scalar.widenTransposed(m, r, h, HEAD_DIM, bits, row, at, r % 4, 4);
                            vector.widenTransposed(m, r, h, HEAD_DIM, bits, row, bt, r % 4, 4);
                            for (int d = 0; d < HEAD_DIM; d++) {
                                String where = (bf16 ? "BF16" : "F16") + " part " + part + " row " + r + " head " + h
                                        + " dim " + d;
                                assertEquals(Float.floatToRawIntBits(a[5 + d]), Float.floatToRawIntBits(b[5 + d]),
                                        where);
                                assertEquals(Float.floatToRawIntBits(at[d * 4 + r % 4]),
                                        Float.floatToRawIntBits(bt[d * 4 + r % 4]), where + " transposed");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void vectorNarrowingMatchesScalarOnOneHeadAndOnAGroupsRun() {
        AttentionTileMath scalar = AttentionTileMath.of(false);
        AttentionTileMath vector = AttentionTileMath.of(true);
        int heads = 3;
        int width = heads * HEAD_DIM;
        int rows = 512;
        SplittableRandom random = new SplittableRandom(7);
        float[] values = new float[rows * width];
        for (int i = 0; i < values.length; i++) {
            // Random magnitudes across both types' ranges, halfway cases of both roundings, and the odd special.
            int bits = switch (i % 4) {
                case 0 -> Float.floatToRawIntBits((float) random.nextDouble(-70000, 70000));
                case 1 -> random.nextInt() & 0xFFFF_E000 | 0x1000;
                case 2 -> random.nextInt() & 0xFFFF_0000 | 0x8000;
                default -> random.nextInt();
            };
            values[i] = Float.intBitsToFloat(bits);
        }
        short[] bits = new short[width];
        try (Arena arena = Arena.ofConfined()) {
            for (boolean bf16 : new boolean[] {false, true}) {
                MemorySegment want = arena.allocate(2L * rows * width);
                MemorySegment got = arena.allocate(2L * rows * width);
                HalfMatrix scalarOut = new HalfMatrix(want, 0, bf16, width, 0);
                HalfMatrix vectorOut = new HalfMatrix(got, 0, bf16, width, 0);
                for (int r = 0; r < rows; r++) {
                    if (r % 2 == 0) {
                        scalar.narrow(values, r * width, scalarOut, r, 0, HEAD_DIM, width, bits);
                        vector.narrow(values, r * width, vectorOut, r, 0, HEAD_DIM, width, bits);
                    } else {
                        for (int h = 0; h < heads; h++) {
                            scalar.narrow(values, r * width + h * HEAD_DIM, scalarOut, r, h, HEAD_DIM, HEAD_DIM, bits);
                            vector.narrow(values, r * width + h * HEAD_DIM, vectorOut, r, h, HEAD_DIM, HEAD_DIM, bits);
                        }
                    }
                }
                for (long i = 0; i < (long) rows * width; i++) {
                    assertEquals(want.getAtIndex(ValueLayout.JAVA_SHORT, i), got.getAtIndex(ValueLayout.JAVA_SHORT, i),
                            (bf16 ? "BF16" : "F16") + " element " + i + " from " + values[(int) i]);
                }
            }
        }
    }
}
