package org.lacuna.runtime.internal.nvrtc;

import java.util.List;
import java.util.Map;

/**
 * One NVRTC library behind whichever binding serves it (JCuda's JNvrtc on libnvrtc.so.12, or java.lang.foreign on
 * libnvrtc.so.13). Implementations are thread-safe: NVRTC programs are independent.
 */
public interface NvrtcBinding {
    /** Which binding on which library, for {@code lacuna info} and logs, e.g. "JCuda JNvrtc on /x/libnvrtc.so.12". */
    String description();

    /** NVRTC's own version as major*1000 + minor*10 (12.9 = 12090); part of every cache key. */
    int version();

    /**
     * Compiles one translation unit. Never throws for a compile error: the result says so and carries the log.
     *
     * @param headers include name → source, handed to nvrtcCreateProgram
     * @param options NVRTC options, e.g. {@code --gpu-architecture=sm_90a}
     */
    NvrtcResult compile(String source, String programName, Map<String, String> headers, List<String> options);

    /** The output of one compilation; {@code cubin} is empty when {@code success} is false. */
    record NvrtcResult(boolean success, byte[] cubin, String log) {
    }
}
