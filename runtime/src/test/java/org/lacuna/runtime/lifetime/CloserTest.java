package org.lacuna.runtime.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;

class CloserTest {
    /** A resource that records when it closes and optionally fails doing so. */
    private static final class Recorded implements AutoCloseable {
        private final String name;
        private final List<String> log;
        private final Exception failure;
        int closes;

        Recorded(String name, List<String> log, Exception failure) {
            this.name = name;
            this.log = log;
            this.failure = failure;
        }

        @Override
        public void close() throws Exception {
            closes++;
            log.add(name);
            if (failure != null) {
                throw failure;
            }
        }
    }

    @Test
    void closesLastRegisteredFirstAndOnlyOnce() {
        List<String> log = new ArrayList<>();
        Closer closer = new Closer("test");
        Recorded a = closer.register(new Recorded("a", log, null));
        Recorded b = closer.register(new Recorded("b", log, null));
        closer.register(new Recorded("c", log, null));
        closer.register(a); // a second registration keeps the first place
        assertEquals(3, closer.size());
        closer.close();
        closer.close();
        assertEquals(List.of("c", "b", "a"), log);
        assertEquals(1, a.closes);
        assertEquals(1, b.closes);
        assertTrue(closer.isClosed());
    }

    @Test
    void theFirstFailureIsThrownWithTheLaterOnesSuppressedAndEveryResourceStillCloses() {
        List<String> log = new ArrayList<>();
        IllegalStateException second = new IllegalStateException("second");
        Closer closer = new Closer("test");
        closer.register(new Recorded("first", log, new IOException("checked")));
        closer.register(new Recorded("fine", log, null));
        closer.register(new Recorded("second", log, second));
        closer.register(new Recorded("last", log, null));
        IllegalStateException thrown = assertThrows(IllegalStateException.class, closer::close);
        assertSame(second, thrown);
        assertEquals(List.of("last", "second", "fine", "first"), log);
        assertEquals(1, thrown.getSuppressed().length);
        LacunaException wrapped = (LacunaException) thrown.getSuppressed()[0];
        assertEquals(ErrorCode.INTERNAL, wrapped.code());
        assertEquals("test.close", wrapped.call());
        assertTrue(wrapped.getCause() instanceof IOException);
    }

    @Test
    void closeAllKeepsTheGivenOrderAndSkipsNulls() {
        List<String> log = new ArrayList<>();
        RuntimeException first = new RuntimeException("one");
        RuntimeException third = new RuntimeException("three");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> Closer.closeAll("owner",
                new Recorded("1", log, first), null, new Recorded("2", log, null), new Recorded("3", log, third)));
        assertSame(first, thrown);
        assertEquals(List.of("1", "2", "3"), log);
        assertEquals(List.of(third), List.of(thrown.getSuppressed()));
    }

    @Test
    void closeAfterAFailureAttachesEveryCloseFailureToIt() {
        List<String> log = new ArrayList<>();
        Closer closer = new Closer("build");
        closer.register(new Recorded("made", log, new IllegalArgumentException("close failed")));
        closer.register(new Recorded("made later", log, null));
        RuntimeException cause = new RuntimeException("construction failed");
        assertSame(cause, closer.closeAfter(cause));
        assertEquals(List.of("made later", "made"), log);
        assertEquals(1, cause.getSuppressed().length);
        assertEquals("close failed", cause.getSuppressed()[0].getMessage());
        assertTrue(closer.isClosed());
    }

    @Test
    void aRemovedResourceIsNotClosed() {
        List<String> log = new ArrayList<>();
        Closer closer = new Closer("test");
        Recorded kept = closer.register(new Recorded("kept", log, null));
        closer.register(new Recorded("closed", log, null));
        assertTrue(closer.remove(kept));
        assertFalse(closer.remove(kept));
        assertFalse(closer.contains(kept));
        closer.close();
        assertEquals(List.of("closed"), log);
    }

    @Test
    void registeringAfterCloseClosesTheResourceAndFails() {
        List<String> log = new ArrayList<>();
        Closer closer = new Closer("owner");
        closer.close();
        Recorded late = new Recorded("late", log, null);
        ResourceClosedException e = assertThrows(ResourceClosedException.class, () -> closer.register(late));
        assertEquals(ErrorCode.CLOSED, e.code());
        assertEquals(1, late.closes);
    }

    @Test
    void aResourceMayRemoveItselfWhileItsCloserCloses() {
        Closer closer = new Closer("test");
        int[] closes = {0};
        AutoCloseable[] self = new AutoCloseable[1];
        self[0] = () -> {
            closer.remove(self[0]); // as a tensor does on close; must not deadlock or fail
            closes[0]++;
        };
        closer.register(self[0]);
        closer.close();
        assertEquals(1, closes[0]);
    }
}
