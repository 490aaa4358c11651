package org.lacuna.runtime.backend;

/**
 * What a backend runs on.
 *
 * @param computeCapability e.g. 90 for sm_90; 0 for the CPU
 * @param multiprocessors   SMs on a GPU, cores on the CPU
 * @param driverVersion     CUDA driver version as an int (12040 = 12.4), 0 for the CPU
 */
public record DeviceInfo(int ordinal, String name, int computeCapability, int multiprocessors, long totalMemoryBytes,
                         int driverVersion) {

    /** The NVRTC/ptxas architecture to compile for: {@code sm_90a} on Hopper (wgmma and friends need the 'a'). */
    public String targetArchitecture() {
        if (computeCapability == 0) {
            return "host";
        }
        return computeCapability == 90 ? "sm_90a" : "sm_" + computeCapability;
    }

    public static String versionString(int cudaVersion) {
        return cudaVersion <= 0 ? "n/a" : (cudaVersion / 1000) + "." + (cudaVersion % 1000) / 10;
    }
}
