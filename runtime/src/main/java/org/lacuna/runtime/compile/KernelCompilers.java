package org.lacuna.runtime.compile;

import org.lacuna.runtime.internal.nvrtc.NvrtcBindings;

/**
 * The JVM-wide compiler: one memory cache shared by every backend and session, on top of the disk cache, so a
 * kernel is compiled at most once per JVM and, with a warm disk cache, never.
 */
public final class KernelCompilers {
    private static volatile KernelCompiler shared;

    private KernelCompilers() {
    }

    /** The shared compiler on the NVRTC binding the runtime selects; throws LibraryLoadException if none loads. */
    public static KernelCompiler shared() {
        KernelCompiler compiler = shared;
        if (compiler == null) {
            synchronized (KernelCompilers.class) {
                if (shared == null) {
                    shared = new KernelCompiler(NvrtcBindings.get(), KernelCompiler.defaultDiskCache());
                }
                compiler = shared;
            }
        }
        return compiler;
    }
}
