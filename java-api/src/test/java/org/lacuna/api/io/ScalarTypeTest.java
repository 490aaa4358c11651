package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScalarTypeTest {
    /** Random bytes at an odd offset, in both byte orders: read widens what readLong reads for every integer type. */
    @Test
    void readWidensEachTypesBitsAsTheFileMeansThem() {
        SplittableRandom random = new SplittableRandom();
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            for (int trial = 0; trial < 200; trial++) {
                byte[] bytes = new byte[11];
                random.nextBytes(bytes);
                ByteBuffer buffer = ByteBuffer.wrap(bytes).order(order);
                assertEquals(bytes[3], ScalarType.INT8.read(buffer, 3));
                assertEquals(bytes[3] & 0xFF, ScalarType.UINT8.read(buffer, 3));
                assertEquals(buffer.getShort(3), ScalarType.INT16.read(buffer, 3));
                assertEquals(Short.toUnsignedInt(buffer.getShort(3)), ScalarType.UINT16.read(buffer, 3));
                assertEquals(buffer.getInt(3), ScalarType.INT32.read(buffer, 3));
                assertEquals(Integer.toUnsignedLong(buffer.getInt(3)), ScalarType.UINT32.read(buffer, 3));
                assertEquals((double) buffer.getLong(3), ScalarType.INT64.read(buffer, 3));
                assertEquals(Double.parseDouble(Long.toUnsignedString(buffer.getLong(3))),
                        ScalarType.UINT64.read(buffer, 3));
                assertEquals(buffer.getFloat(3), ScalarType.FLOAT32.read(buffer, 3));
                assertEquals(buffer.getDouble(3), ScalarType.FLOAT64.read(buffer, 3));
                for (ScalarType type : ScalarType.values()) {
                    if (type.isInteger() && type != ScalarType.UINT64) {
                        assertEquals((double) type.readLong(buffer, 3), type.read(buffer, 3), type.name());
                    }
                }
                assertEquals(buffer.getLong(3), ScalarType.UINT64.readLong(buffer, 3));
            }
        }
        assertThrows(IllegalStateException.class, () -> ScalarType.FLOAT32.readLong(ByteBuffer.allocate(4), 0));
    }
}
