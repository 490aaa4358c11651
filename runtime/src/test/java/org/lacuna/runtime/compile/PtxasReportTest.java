package org.lacuna.runtime.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PtxasReportTest {
    @Test
    void readsRegistersSharedMemoryAndSpillsPerEntry() {
        String log = """
                ptxas info    : 0 bytes gmem
                ptxas info    : Compiling entry function 'a' for 'sm_90a'
                ptxas info    : Function properties for a
                    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
                ptxas info    : Used 40 registers, used 1 barriers, 4096 bytes smem, 380 bytes cmem[0]
                ptxas info    : Compiling entry function 'b' for 'sm_90a'
                ptxas info    : Function properties for b
                    24 bytes stack frame, 16 bytes spill stores, 8 bytes spill loads
                ptxas info    : Used 255 registers, used 0 barriers, 380 bytes cmem[0]
                """;
        PtxasReport report = PtxasReport.parse(log);
        assertEquals(2, report.functions().size());
        PtxasReport.FunctionResources a = report.functions().get(0);
        assertEquals(new PtxasReport.FunctionResources("a", "sm_90a", 40, 4096, 0, 0, 0), a);
        assertFalse(a.spills());
        PtxasReport.FunctionResources b = report.functions().get(1);
        assertEquals(255, b.registers());
        assertEquals(16, b.spillStoreBytes());
        assertTrue(b.spills());
        assertTrue(report.anySpills());
    }
}
