package org.lacuna.runtime.schedule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lacuna.runtime.backend.DeviceInfo;

/**
 * The device a tuning store's entries hold for: choices and rates measured on one machine do not carry to another.
 *
 * @param backend the serving backend ({@code cpu}, {@code cuda})
 * @param device  the GPU's name, or the CPU's model
 * @param model   compute capability on a GPU ({@code sm_90}), the CPU's instruction-set flags that the kernels use
 * @param units   SMs on a GPU, worker threads on the CPU
 * @param driver  the CUDA driver version, or {@code -} on the CPU
 */
public record DeviceKey(String backend, String device, String model, int units, String driver) {
    /** The key for a backend running on {@code info}. */
    public static DeviceKey of(String backend, DeviceInfo info) {
        if (info.computeCapability() > 0) {
            return new DeviceKey(backend, info.name(), "sm_" + info.computeCapability(), info.multiprocessors(),
                    DeviceInfo.versionString(info.driverVersion()));
        }
        return new DeviceKey(backend, cpuModel().orElse(info.name()), cpuFeatures(), info.multiprocessors(), "-");
    }

    private static java.util.Optional<String> cpuModel() {
        return cpuInfoField("model name");
    }

    /** The vector widths the CPU kernels can use, which change their speed. */
    private static String cpuFeatures() {
        String flags = cpuInfoField("flags").orElse("");
        List<String> wanted = List.of("avx512f", "avx2", "fma", "neon", "asimd");
        StringBuilder s = new StringBuilder();
        for (String f : wanted) {
            if ((" " + flags + " ").contains(" " + f + " ")) {
                s.append(s.isEmpty() ? "" : "+").append(f);
            }
        }
        return s.isEmpty() ? System.getProperty("os.arch") : s.toString();
    }

    private static java.util.Optional<String> cpuInfoField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(field)) {
                    return java.util.Optional.of(line.substring(colon + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or not readable: the device name the backend reports stands in.
        }
        return java.util.Optional.empty();
    }

    /**
     * Written out rather than generated (the same fields compared): a record's generated equality and hash link
     * method handles, dear in the interpreted code a cold store's first decisions run.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceKey k && units == k.units && java.util.Objects.equals(backend, k.backend)
                && java.util.Objects.equals(device, k.device) && java.util.Objects.equals(model, k.model)
                && java.util.Objects.equals(driver, k.driver);
    }

    @Override
    public int hashCode() {
        return (((java.util.Objects.hashCode(backend) * 31 + java.util.Objects.hashCode(device)) * 31
                + java.util.Objects.hashCode(model)) * 31 + units) * 31 + java.util.Objects.hashCode(driver);
    }

    @Override
    public String toString() {
        return backend + " | " + device + " | " + model + " | " + units + " units | driver " + driver;
    }
}
