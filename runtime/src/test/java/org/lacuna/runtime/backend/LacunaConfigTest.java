package org.lacuna.runtime.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LacunaConfigTest {
    /** The variables the documentation names: a dotted key once gave LACUNA_OPENBLAS.PATH, which no shell can set. */
    @Test
    void environmentNamesAreShellNames() {
        assertEquals("LACUNA_CACHE_DIR", LacunaConfig.environmentName("cacheDir"));
        assertEquals("LACUNA_OPENBLAS_PATH", LacunaConfig.environmentName("openblas.path"));
        assertEquals("LACUNA_CPU_SPIN_MICROS", LacunaConfig.environmentName("cpu.spinMicros"));
        assertEquals("LACUNA_CPU_THREADS", LacunaConfig.environmentName("cpu.threads"));
    }
}
