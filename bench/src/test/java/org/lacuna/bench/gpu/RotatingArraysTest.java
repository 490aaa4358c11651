package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;

class RotatingArraysTest {
    @Test
    void everyArrayOfACopyStartsAligned() {
        List<ArraySpec> csr = List.of(
                ArraySpec.of(DType.I32, 1001),     // row pointers: 4004 bytes
                ArraySpec.of(DType.I32, 5000),     // column indices: 20000 bytes
                ArraySpec.of(DType.F16, 5000));    // values: 10000 bytes
        long[] offsets = new long[3];
        long setBytes = RotatingArrays.layOut(csr, offsets);

        assertArrayEquals(new long[] {0, 4096, 24320}, offsets);
        assertEquals(34560, setBytes);
        assertEquals(0, setBytes % RotatingArrays.ALIGNMENT);
    }

    @Test
    void anEmptyArrayStillGetsItsOwnSlot() {
        long[] offsets = new long[2];
        long setBytes = RotatingArrays.layOut(List.of(ArraySpec.of(DType.F32, 0), ArraySpec.of(DType.F32, 1)), offsets);
        assertArrayEquals(new long[] {0, 256}, offsets);
        assertEquals(512, setBytes);
    }
}
