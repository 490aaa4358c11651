package org.lacuna.runtime.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Raw addresses become JCuda objects holding exactly that address (JCuda shows it only through toString). */
class JcudaPointersTest {
    @Test
    void aDevicePointerCarriesTheAddress() {
        String text = JcudaPointers.device(0xABC000L).toString();

        assertTrue(text.contains("nativePointer=0xabc000"), text);
        assertTrue(text.contains("byteOffset=0"), text);
    }

    @Test
    void aStreamCarriesTheAddressAndZeroIsTheDefaultStream() {
        assertEquals("cudaStream_t[nativePointer=" + 0x7F00_1234L + "]", JcudaPointers.stream(0x7F00_1234L).toString());
        assertEquals("cudaStream_t[nativePointer=0]", JcudaPointers.stream(0).toString());
    }
}
