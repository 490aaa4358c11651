package org.lacuna.runtime.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;

class BackendsTest {
    @AfterEach
    void clearOverride() {
        System.clearProperty("lacuna.backend");
    }

    @Test
    void bothProvidersAreFoundAndRankedWithReasons() {
        List<Backends.Candidate> candidates = Backends.survey();
        assertEquals(List.of("cuda", "cpu", "cpu-reference"), candidates.stream().map(c -> c.provider().name()).toList());
        for (Backends.Candidate candidate : candidates) {
            assertTrue(!candidate.availability().reason().isBlank(), candidate.provider().name() + " gives no reason");
        }
        assertTrue(candidates.get(1).availability().available(), "the CPU backend is always available");
    }

    @Test
    void withoutAGpuTheCpuBackendServesAndSaysWhy() {
        Backends.Selection selection = Backends.select();
        Backends.Candidate cuda = Backends.survey().get(0);
        if (cuda.availability().available()) {
            assertEquals("cuda", selection.chosen().provider().name());
        } else {
            assertEquals("cpu", selection.chosen().provider().name());
            assertTrue(selection.reason().contains("cuda unavailable"), selection.reason());
            assertTrue(selection.reason().contains(cuda.availability().reason()), selection.reason());
        }
    }

    @Test
    void overrideSelectsOrFailsClearly() {
        System.setProperty("lacuna.backend", "cpu");
        try (Backend backend = Backends.open()) {
            assertEquals("cpu", backend.name());
        }
        System.setProperty("lacuna.backend", "tpu");
        LacunaException unknown = assertThrows(LacunaException.class, Backends::select);
        assertEquals(ErrorCode.BACKEND_UNAVAILABLE, unknown.code());
        assertTrue(unknown.getMessage().contains("names no backend"));
        if (!Backends.survey().get(0).availability().available()) {
            System.setProperty("lacuna.backend", "cuda");
            LacunaException cuda = assertThrows(LacunaException.class, Backends::select);
            assertTrue(cuda.getMessage().contains("unavailable"), cuda.getMessage());
        }
    }

    @Test
    void closedBackendRefusesWork() {
        Backend backend = Backends.survey().get(1).provider().open(0);
        backend.close();
        backend.close();
        assertEquals(ErrorCode.CLOSED, assertThrows(ResourceClosedException.class, () -> backend.allocate(4)).code());
    }
}
