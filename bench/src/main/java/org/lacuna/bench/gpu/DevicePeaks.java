package org.lacuna.bench.gpu;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Data-sheet DRAM bandwidth of the GPUs benchmarks are expected to meet, so that every memory-bound timing comes
 * with its floor ({@code bytes / peak}). Sparse kernels are bound by memory, so this is the floor that matters; a
 * GPU missing here gets no floor unless {@code --peak-gbps} gives one.
 */
public final class DevicePeaks {
    private record Entry(String[] nameParts, double gigabytesPerSecond, String label) {
    }

    // Most specific first: "H100 NVL" and "H100 PCIe" also contain "H100".
    private static final List<Entry> TABLE = List.of(
            new Entry(new String[] {"H100", "NVL"}, 3_900, "H100 NVL, HBM3"),
            new Entry(new String[] {"H100", "PCIE"}, 2_000, "H100 PCIe, HBM2e"),
            new Entry(new String[] {"H100"}, 3_350, "H100 SXM5, HBM3"),
            new Entry(new String[] {"H200"}, 4_800, "H200, HBM3e"),
            new Entry(new String[] {"GH200"}, 4_000, "GH200, HBM3"),
            new Entry(new String[] {"A100", "80GB"}, 2_039, "A100 80GB SXM, HBM2e"),
            new Entry(new String[] {"A100"}, 1_555, "A100 40GB, HBM2"),
            new Entry(new String[] {"L40S"}, 864, "L40S, GDDR6"),
            new Entry(new String[] {"L4"}, 300, "L4, GDDR6"));

    private DevicePeaks() {
    }

    /** The peak DRAM bandwidth of a device named as CUDA names it (e.g. "NVIDIA H100 80GB HBM3"). */
    public static Optional<PeakBandwidth> lookUp(String deviceName) {
        String upper = deviceName.toUpperCase(Locale.ROOT);
        for (Entry entry : TABLE) {
            boolean matches = true;
            for (String part : entry.nameParts()) {
                matches &= containsWord(upper, part);
            }
            if (matches) {
                return Optional.of(new PeakBandwidth(entry.gigabytesPerSecond(), "data sheet: " + entry.label()));
            }
        }
        return Optional.empty();
    }

    /** "L4" must not match "L40S"; "H100" must not match "GH100". */
    private static boolean containsWord(String haystack, String word) {
        return haystack.matches(".*(^|[^A-Z0-9])" + word + "([^A-Z0-9].*|$)");
    }

    /** @param source where the figure came from, kept in the report next to it */
    public record PeakBandwidth(double gigabytesPerSecond, String source) {
    }
}
