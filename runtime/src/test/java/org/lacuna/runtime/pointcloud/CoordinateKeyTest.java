package org.lacuna.runtime.pointcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Comparator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;

class CoordinateKeyTest {
    @Test
    void theBitLayoutIsTheDocumentedOne() {
        assertEquals(0x0003_8001_7FFF_8000L, CoordinateKey.pack(3, 1, -1, 0));
        assertEquals(0L, CoordinateKey.pack(0, -32768, -32768, -32768));
        assertEquals(0xFFFE_FFFF_FFFF_FFFFL, CoordinateKey.pack(CoordinateKey.MAX_BATCH, 32767, 32767, 32767));
    }

    @Test
    void unpackedRowsReadBackEveryKeyInOrder() {
        java.util.SplittableRandom random = new java.util.SplittableRandom();
        int[][] rows = new int[37][];
        long[] keys = new long[rows.length];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = new int[] {random.nextInt(CoordinateKey.MAX_BATCH + 1),
                    random.nextInt(CoordinateKey.MIN_COORDINATE, CoordinateKey.MAX_COORDINATE + 1),
                    random.nextInt(CoordinateKey.MIN_COORDINATE, CoordinateKey.MAX_COORDINATE + 1),
                    random.nextInt(CoordinateKey.MIN_COORDINATE, CoordinateKey.MAX_COORDINATE + 1)};
            keys[r] = CoordinateKey.pack(rows[r][0], rows[r][1], rows[r][2], rows[r][3]);
        }
        int[] unpacked = CoordinateKey.unpackRows(keys);
        assertEquals(4 * rows.length, unpacked.length);
        for (int r = 0; r < rows.length; r++) {
            assertEquals(java.util.Arrays.toString(rows[r]),
                    java.util.Arrays.toString(java.util.Arrays.copyOfRange(unpacked, 4 * r, 4 * r + 4)), "row " + r);
        }
        assertEquals(0, CoordinateKey.unpackRows(new long[0]).length);
    }

    @Test
    void noCoordinateHasTheEmptyKey() {
        assertNotEquals(CoordinateKey.EMPTY, CoordinateKey.pack(CoordinateKey.MAX_BATCH, 32767, 32767, 32767));
        assertFalse(CoordinateKey.fits(CoordinateKey.MAX_BATCH + 1, 0, 0, 0));
    }

    @Test
    void outOfRangeValuesAreNamed() {
        var e = assertThrows(InvalidInputException.class, () -> CoordinateKey.pack(0, 0, 40000, 0));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("y = 40000"), e.getMessage());
        assertTrue(assertThrows(InvalidInputException.class, () -> CoordinateKey.pack(-1, 0, 0, 0)).getMessage()
                .contains("batch -1"));
        assertTrue(assertThrows(InvalidInputException.class, () -> CoordinateKey.pack(65535, 0, 0, 0)).getMessage()
                .contains("batch 65535"));
        assertTrue(assertThrows(InvalidInputException.class, () -> CoordinateKey.pack(0, 0, 0, -32769)).getMessage()
                .contains("z = -32769"));
    }

    @Property(tries = 500)
    void packThenUnpackIsTheIdentity(@ForAll @IntRange(min = 0, max = 65534) int batch,
                                     @ForAll @IntRange(min = -32768, max = 32767) int x,
                                     @ForAll @IntRange(min = -32768, max = 32767) int y,
                                     @ForAll @IntRange(min = -32768, max = 32767) int z) {
        long key = CoordinateKey.pack(batch, x, y, z);
        assertEquals(batch, CoordinateKey.batch(key));
        assertEquals(x, CoordinateKey.x(key));
        assertEquals(y, CoordinateKey.y(key));
        assertEquals(z, CoordinateKey.z(key));
        assertEquals(key, CoordinateKey.signedOrder(CoordinateKey.signedOrder(key)));
    }

    @Property(tries = 500)
    void keyOrderIsCoordinateOrder(@ForAll @IntRange(min = 0, max = 65534) int b1,
                                   @ForAll @IntRange(min = -32768, max = 32767) int x1,
                                   @ForAll @IntRange(min = -3, max = 3) int y1,
                                   @ForAll @IntRange(min = -32768, max = 32767) int z1,
                                   @ForAll @IntRange(min = 0, max = 65534) int b2,
                                   @ForAll @IntRange(min = -32768, max = 32767) int x2,
                                   @ForAll @IntRange(min = -3, max = 3) int y2,
                                   @ForAll @IntRange(min = -32768, max = 32767) int z2) {
        Comparator<int[]> lexicographic = Comparator.<int[]>comparingInt(c -> c[0]).thenComparingInt(c -> c[1])
                .thenComparingInt(c -> c[2]).thenComparingInt(c -> c[3]);
        int expected = Integer.signum(lexicographic.compare(new int[] {b1, x1, y1, z1}, new int[] {b2, x2, y2, z2}));
        long k1 = CoordinateKey.pack(b1, x1, y1, z1);
        long k2 = CoordinateKey.pack(b2, x2, y2, z2);
        assertEquals(expected, Integer.signum(CoordinateKey.compare(k1, k2)));
        assertEquals(expected, Integer.signum(Long.compare(CoordinateKey.signedOrder(k1), CoordinateKey.signedOrder(k2))));
    }
}
