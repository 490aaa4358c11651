package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DevicePeaksTest {
    private static double peak(String deviceName) {
        return DevicePeaks.lookUp(deviceName).orElseThrow().gigabytesPerSecond();
    }

    @Test
    void knowsTheHopperVariantsByTheNamesCudaGivesThem() {
        assertEquals(3_350, peak("NVIDIA H100 80GB HBM3"));
        assertEquals(2_000, peak("NVIDIA H100 PCIe"));
        assertEquals(3_900, peak("NVIDIA H100 NVL"));
        assertEquals(4_800, peak("NVIDIA H200"));
        assertEquals(4_000, peak("NVIDIA GH200 480GB"));
    }

    @Test
    void aShortNameDoesNotMatchInsideALongerOne() {
        assertEquals(864, peak("NVIDIA L40S"));
        assertEquals(300, peak("NVIDIA L4"));
    }

    @Test
    void unknownDevicesAndTheCpuHaveNoPeak() {
        assertTrue(DevicePeaks.lookUp("NVIDIA GeForce GTX 1080").isEmpty());
        assertTrue(DevicePeaks.lookUp("cpu").isEmpty());
    }
}
