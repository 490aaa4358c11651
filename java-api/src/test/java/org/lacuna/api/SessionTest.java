package org.lacuna.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.RowReduction;

class SessionTest {
    private static Session cpu() {
        return Lacuna.open("cpu", 0);
    }

    @Test
    void tensorsRoundTripInEveryDtype() {
        try (Session s = cpu()) {
            float[] values = {1.5f, -2.25f, 3f, 1f / 3};
            assertArrayEquals(values, s.fromFloats(values, DType.F32, 2, 2).toFloatArray());
            float[] half = s.fromFloats(values, DType.F16, 4).toFloatArray();
            assertEquals(0.333251953125f, half[3]);
            assertEquals(-2.25f, s.fromFloats(values, DType.BF16, 4).toFloatArray()[1]);
            assertArrayEquals(new int[] {1, -2, 3}, s.fromInts(new int[] {1, -2, 3}, 3).toIntArray());
            assertArrayEquals(new long[] {1L << 40, -7}, s.fromLongs(new long[] {1L << 40, -7}, 2).toLongArray());
        }
    }

    @Test
    void viewsShareMemoryAndDieWithTheirOwner() {
        try (Session s = cpu()) {
            Tensor t = s.fromFloats(new float[] {0, 1, 2, 3, 4, 5}, DType.F32, 3, 2);
            Tensor middle = t.rows(1, 3);
            assertArrayEquals(new float[] {2, 3, 4, 5}, middle.toFloatArray());
            Tensor flat = t.reshape(6);
            assertEquals(6, flat.shape().dim(0));
            assertTrue(flat.isView());
            Tensor relu = s.biasActivation(middle, null, Activation.RELU, DType.F32);
            assertArrayEquals(new float[] {2, 3, 4, 5}, relu.toFloatArray());
            flat.close(); // closing a view leaves the owner alone
            assertArrayEquals(new float[] {0, 1}, t.rows(0, 1).toFloatArray());
            t.close();
            assertThrows(ResourceClosedException.class, middle::toFloatArray);
            assertThrows(InvalidInputException.class, () -> relu.reshape(5));
            assertThrows(InvalidInputException.class, () -> relu.rows(1, 5));
        }
    }

    @Test
    void closingTheSessionClosesEverythingItMade() {
        Session s = cpu();
        Tensor a = s.fromFloats(new float[1000], DType.F32, 1000);
        Tensor b = s.rowReduce(s.fromFloats(new float[] {1, 2, 3, 4}, DType.F32, 2, 2), RowReduction.SUM);
        assertArrayEquals(new float[] {3, 7}, b.toFloatArray());
        assertTrue(s.memoryStats().inUseBytes() > 0);
        s.close();
        s.close();
        assertTrue(a.isClosed());
        assertEquals(ErrorCode.CLOSED, assertThrows(LacunaException.class, b::toFloatArray).code());
        assertThrows(ResourceClosedException.class, () -> s.empty(DType.F32, 4));
    }

    @Test
    void badInputsAreClearAndTheSessionStaysUsable() {
        try (Session s = cpu(); Session other = cpu()) {
            Tensor x = s.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, DType.F32, 2, 3);
            Tensor ints = s.fromInts(new int[] {1, 2}, 2);
            assertEquals(ErrorCode.SHAPE_MISMATCH,
                    assertThrows(InvalidInputException.class, () -> s.fromFloats(new float[3], DType.F32, 2, 2)).code());
            assertEquals(ErrorCode.DTYPE_MISMATCH,
                    assertThrows(InvalidInputException.class, () -> s.cast(ints, DType.F16)).code());
            assertEquals(ErrorCode.DTYPE_MISMATCH,
                    assertThrows(InvalidInputException.class, () -> s.fromFloats(new float[2], DType.I32, 2)).code());
            Tensor wrongBias = s.fromFloats(new float[] {1, 2}, DType.F32, 2);
            long inUse = s.memoryStats().inUseBytes();
            assertThrows(InvalidInputException.class, () -> s.biasActivation(x, wrongBias, Activation.GELU, DType.F32));
            assertEquals(inUse, s.memoryStats().inUseBytes(), "a failed op must not leak its output");
            Tensor foreign = other.fromFloats(new float[] {1}, DType.F32, 1);
            assertTrue(assertThrows(InvalidInputException.class, () -> s.cast(foreign, DType.F16))
                    .getMessage().contains("another session"));
            assertThrows(InvalidInputException.class, () -> s.empty(DType.F32, -1));
            assertArrayEquals(new float[] {6, 15}, s.rowReduce(x, RowReduction.SUM).toFloatArray());
            assertFalse(s.isClosed());
        }
    }

    @Test
    void namedBackendThatIsUnavailableFailsClearly() {
        assertThrows(LacunaException.class, () -> Lacuna.open("tpu", 0));
        try (Session s = Lacuna.open()) {
            assertFalse(s.backendReason().isBlank());
        }
    }
}
