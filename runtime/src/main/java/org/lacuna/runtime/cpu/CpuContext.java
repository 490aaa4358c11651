package org.lacuna.runtime.cpu;

/**
 * What every serving CPU op shares: the options it was opened with, its worker threads and whether the Vector API
 * kernels may run.
 */
record CpuContext(CpuOptions options, CpuThreads threads, boolean vectorApi) {
    static CpuContext open(CpuOptions options) {
        CpuCapabilities.warnOnceIfDegraded(options);
        return new CpuContext(options, new CpuThreads(options.threads(), options.spinMicros()),
                CpuCapabilities.useVectorApi(options));
    }
}
