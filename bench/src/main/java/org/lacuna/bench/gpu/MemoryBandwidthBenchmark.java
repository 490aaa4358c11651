package org.lacuna.bench.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DeviceBuffer;

/**
 * The memory roofs every kernel is judged against, measured with the backend's own primitives: how fast the device
 * writes its memory (fill), and how fast data crosses to and from the host (the data-loading path's bound).
 */
public final class MemoryBandwidthBenchmark implements GpuBenchmark {
    static final long FILL_BYTES = 1L << 30;
    static final long TRANSFER_BYTES = 256L << 20;

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public List<BenchResult> run(BenchContext context) {
        Backend backend = context.backend();
        // Large enough to stream past any L2 by itself, small enough to leave room on any device.
        long fillBytes = Math.min(FILL_BYTES, Math.max(1L << 20, backend.device().totalMemoryBytes() / 8));
        long transferBytes = Math.min(TRANSFER_BYTES, fillBytes);

        BenchResult fill;
        try (DeviceBuffer target = backend.allocate(fillBytes)) {
            fill = context.measure("device-fill")
                    .param("bytes", fillBytes)
                    .work(Work.bytesOnly(fillBytes))
                    .measure(i -> backend.fill(target, 0, fillBytes, (byte) i));
        }

        BenchResult hostToDevice;
        BenchResult deviceToHost;
        try (Arena arena = Arena.ofConfined(); DeviceBuffer device = backend.allocate(transferBytes)) {
            MemorySegment host = arena.allocate(transferBytes, 4096);
            host.fill((byte) 1);
            hostToDevice = context.measure("host-to-device")
                    .param("bytes", transferBytes).param("hostMemory", "pageable")
                    .work(Work.bytesOnly(transferBytes))
                    .measureWallClock(i -> backend.upload(host, device, 0, transferBytes));
            deviceToHost = context.measure("device-to-host")
                    .param("bytes", transferBytes).param("hostMemory", "pageable")
                    .work(Work.bytesOnly(transferBytes))
                    .measureWallClock(i -> backend.download(device, 0, host, transferBytes));
        }
        return List.of(fill, hostToDevice, deviceToHost);
    }
}
