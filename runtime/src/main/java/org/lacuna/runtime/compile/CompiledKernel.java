package org.lacuna.runtime.compile;

/**
 * A compiled cubin with everything known about how it was made.
 *
 * @param key    the cache key (hex SHA-256 of source, headers, options, architecture and NVRTC version)
 * @param log    NVRTC's log, ptxas's resource report included; kept for every compile, cached or not
 * @param origin where this call found it
 */
public record CompiledKernel(CompileRequest request, String key, byte[] cubin, String log, Origin origin) {
    public enum Origin { COMPILED, MEMORY_CACHE, DISK_CACHE }

    public PtxasReport resources() {
        return PtxasReport.parse(log);
    }
}
