package org.lacuna.runtime.internal.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.Backends;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;

/**
 * The checks every backend makes before its own work (through {@link CheckedBackend}), on the two CPU backends, which
 * share a buffer class: a call is refused with an exception naming it, and nothing is copied or counted.
 */
class CheckedBackendTest {
    private static Backend open(String name) {
        return Backends.survey().stream().filter(c -> c.provider().name().equals(name)).findFirst().orElseThrow()
                .provider().open(0);
    }

    @Test
    void aBufferOfAnotherBackendIsRefusedBeforeAnyCopy() {
        try (Backend cpu = open("cpu"); Backend reference = open("cpu-reference"); Arena arena = Arena.ofConfined()) {
            DeviceBuffer foreign = reference.allocate(64);
            MemorySegment host = arena.allocate(64);
            TransferStats before = cpu.transferStats();
            Map<String, Executable> calls = Map.of(
                    "upload", () -> cpu.upload(host, foreign, 0, 64),
                    "download", () -> cpu.download(foreign, 0, host, 64),
                    "fill", () -> cpu.fill(foreign, 0, 64, (byte) 1));
            calls.forEach((call, work) -> {
                InvalidInputException e = assertThrows(InvalidInputException.class, work, call);
                assertEquals(call, e.call());
                assertTrue(e.getMessage().contains("belongs to the cpu-reference backend, not cpu"), e.getMessage());
            });
            assertEquals(new TransferStats(0, 0, 0, 0, 0), cpu.transferStats().since(before));
            foreign.close();
        }
    }

    @Test
    void badSizesAndRangesAreRefusedBeforeAnyCopy() {
        try (Backend cpu = open("cpu"); Arena arena = Arena.ofConfined()) {
            assertEquals("allocate", assertThrows(InvalidInputException.class, () -> cpu.allocate(-1)).call());
            DeviceBuffer buffer = cpu.allocate(64);
            MemorySegment host = arena.allocate(64);
            TransferStats before = cpu.transferStats();
            assertEquals("upload", assertThrows(LacunaException.class, () -> cpu.upload(host, buffer, 32, 64)).call());
            assertEquals("download",
                    assertThrows(LacunaException.class, () -> cpu.download(buffer, 0, arena.allocate(8), 64)).call());
            assertEquals("fill", assertThrows(LacunaException.class, () -> cpu.fill(buffer, -1, 8, (byte) 0)).call());
            assertEquals(new TransferStats(0, 0, 0, 0, 0), cpu.transferStats().since(before));
            buffer.close();
        }
    }

    @Test
    void aClosedBackendRefusesEveryCallByNameAndStillReportsItsCounts() {
        Backend cpu = open("cpu");
        DeviceBuffer buffer = cpu.allocate(16);
        MemorySegment host = MemorySegment.ofArray(new byte[16]);
        cpu.upload(host, buffer, 0, 16);
        cpu.close();
        Map<String, Executable> calls = Map.of(
                "allocate", () -> cpu.allocate(16),
                "upload", () -> cpu.upload(host, buffer, 0, 16),
                "download", () -> cpu.download(buffer, 0, host, 16),
                "fill", () -> cpu.fill(buffer, 0, 16, (byte) 0),
                "synchronize", cpu::synchronize,
                "ops", cpu::ops,
                "newTimer", cpu::newTimer);
        calls.forEach((call, work) -> {
            LacunaException e = assertInstanceOf(ResourceClosedException.class,
                    assertThrows(LacunaException.class, work));
            assertEquals(call, e.call());
        });
        assertEquals(1, cpu.transferStats().uploads());
    }
}
