package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.BackendAvailability;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

class CudaBackendProviderTest {
    @Test
    void probeNeverThrowsAndGivesAShortReason() {
        BackendAvailability availability = new CudaBackendProvider().probe();
        assertFalse(availability.reason().isBlank());
        if (!availability.available()) {
            assertFalse(availability.reason().contains("\tat "), "no stack traces in the reason: " + availability.reason());
            assertTrue(availability.reason().lines().count() <= 2, availability.reason());
            LacunaException e = assertThrows(LacunaException.class, () -> new CudaBackendProvider().open(0));
            assertEquals(ErrorCode.BACKEND_UNAVAILABLE, e.code());
        }
    }

    @Test
    void theLoadersLastWordIsKept() {
        String jcudaStyle = "Error while loading native library \"JCudaDriver\"\n---(start of nested stack traces)---\n"
                + "java.lang.UnsatisfiedLinkError: no JCudaDriver in java.library.path: /usr/lib\n\tat x.y(z)\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared object file: "
                + "No such file or directory\n\tat a.b(c)\n";
        assertEquals("/tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared object file: No such file or directory",
                CudaBackendProvider.rootMessage(new UnsatisfiedLinkError(jcudaStyle)));
        assertEquals("plain", CudaBackendProvider.rootMessage(new UnsatisfiedLinkError("plain")));
    }
}
