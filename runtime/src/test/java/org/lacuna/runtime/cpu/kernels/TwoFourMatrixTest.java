package org.lacuna.runtime.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The blocked order of the 2:4 form: every group stored once, where the kernels look for it. */
class TwoFourMatrixTest {
    @Test
    void groupsAreStoredBlockByBlockThenRowByRow() {
        int[] ins = {1, 4, 63, 64, 65, 130, 1030};
        for (int in : ins) {
            int out = 5;
            int groups = TwoFourMatrix.groupsOf(in);
            float[] values = new float[out * 2 * groups];
            byte[] nibbles = new byte[out * groups];
            for (int row = 0; row < out; row++) {
                for (int group = 0; group < groups; group++) {
                    int i = row * groups + group;
                    values[2 * i] = i;
                    values[2 * i + 1] = -i;
                    nibbles[i] = (byte) (i % 6 == 0 ? 0x4 : 0xE); // any ordered pair; the form does not judge them
                }
            }
            TwoFourMatrix matrix = new TwoFourMatrix(out, in, values, nibbles);
            String what = "in=" + in;
            assertEquals((groups + TwoFourMatrix.BLOCK_GROUPS - 1) / TwoFourMatrix.BLOCK_GROUPS, matrix.blocks(), what);
            Set<Integer> stored = new HashSet<>();
            for (int row = 0; row < out; row++) {
                for (int group = 0; group < groups; group++) {
                    int block = group / TwoFourMatrix.BLOCK_GROUPS;
                    int at = matrix.blockRow(block, row) + group % TwoFourMatrix.BLOCK_GROUPS;
                    int i = row * groups + group;
                    assertEquals(i, matrix.values()[2 * at], 0f, what + " row " + row + " group " + group);
                    assertEquals(-i, matrix.values()[2 * at + 1], 0f, what + " row " + row + " group " + group);
                    assertEquals(nibbles[i], matrix.nibbles()[at], what + " row " + row + " group " + group);
                    stored.add(at);
                }
            }
            assertEquals(out * groups, stored.size(), what + ": no two groups share a place");
            // The last block holds what is left: its rows follow one another at its own width.
            int last = matrix.blocks() - 1;
            int width = groups - last * TwoFourMatrix.BLOCK_GROUPS;
            assertEquals(width, matrix.blockGroups(last), what);
            assertEquals(matrix.blockRow(last, 0) + width, matrix.blockRow(last, 1), what);
        }
    }
}
