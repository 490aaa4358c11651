package org.lacuna.runtime.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.ResourceClosedException;

class LibraryHandleTest {
    /** A handle whose native destroy is recorded. */
    private static final class Recorded extends LibraryHandle {
        final List<String> destroyed;

        Recorded(List<String> destroyed) {
            super("test handle", "stub binding on /x/libtest.so (1.2.3)", 10203);
            this.destroyed = destroyed;
        }

        void call() {
            ensureOpen("testCall");
        }

        @Override
        protected void destroy() {
            destroyed.add("destroyed");
        }
    }

    @Test
    void closeDestroysOnceAndACallAfterwardsNamesTheCallAndTheHandle() {
        List<String> destroyed = new ArrayList<>();
        Recorded handle = new Recorded(destroyed);
        assertEquals(10203, handle.version());
        assertTrue(handle.description().contains("libtest.so"));
        handle.call();
        handle.close();
        handle.close();
        assertEquals(List.of("destroyed"), destroyed);
        ResourceClosedException e = assertThrows(ResourceClosedException.class, handle::call);
        assertEquals(ErrorCode.CLOSED, e.code());
        assertEquals("testCall", e.call());
        assertTrue(e.getMessage().contains("test handle"));
    }

    @Test
    void aHandleThatCannotBeWrappedIsDestroyedAndTheFailureKept() {
        List<Object> destroyed = new ArrayList<>();
        IllegalStateException versionFailed = new IllegalStateException("GetVersion failed");
        Object raw = new Object();
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> LibraryHandle.adopt(raw,
                h -> {
                    throw versionFailed;
                }, destroyed::add));
        assertSame(versionFailed, thrown);
        assertEquals(List.of(raw), destroyed);

        RuntimeException destroyFailed = new RuntimeException("Destroy failed too");
        IllegalStateException both = assertThrows(IllegalStateException.class, () -> LibraryHandle.adopt(raw,
                h -> {
                    throw versionFailed;
                }, h -> {
                    throw destroyFailed;
                }));
        assertSame(versionFailed, both, "the first failure stays the one thrown");
        assertTrue(List.of(both.getSuppressed()).contains(destroyFailed));
        assertEquals("wrapped", LibraryHandle.adopt(raw, h -> "wrapped", h -> destroyed.add("never")));
        assertEquals(1, destroyed.size());
    }

    @Test
    void openReadsTheVersionOfTheNewHandleAndDestroysItWhenTheReadFails() {
        List<Object> destroyed = new ArrayList<>();
        Object raw = new Object();
        assertEquals("v42", LibraryHandle.open(() -> raw, h -> h == raw ? 42 : -1, (h, v) -> "v" + v,
                destroyed::add));
        assertEquals(List.of(), destroyed);

        IllegalStateException versionFailed = new IllegalStateException("GetVersion failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> LibraryHandle.open(
                () -> raw, h -> {
                    throw versionFailed;
                }, (h, v) -> "never", destroyed::add));
        assertSame(versionFailed, thrown);
        assertEquals(List.of(raw), destroyed);
    }
}
