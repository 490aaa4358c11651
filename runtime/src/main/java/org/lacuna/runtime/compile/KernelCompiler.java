package org.lacuna.runtime.compile;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.lacuna.kernels.KernelSources;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.error.CompilationException;
import org.lacuna.runtime.internal.nvrtc.NvrtcBinding;

/**
 * Compiles shipped kernels through NVRTC for one exact architecture, with specialisation constants, and caches
 * cubins in memory and on disk. The cache key covers everything that changes the cubin: the source, every shipped
 * header, the options (constants included), the architecture and the NVRTC version. A second run of the same
 * program compiles nothing.
 */
public final class KernelCompiler {
    private static final System.Logger LOG = System.getLogger(KernelCompiler.class.getName());

    private final NvrtcBinding nvrtc;
    private final CubinDiskCache diskCache;
    private final Map<String, String> headers;
    private final Optional<Path> cudaHeaders;
    private final Map<String, CompiledKernel> memoryCache = new ConcurrentHashMap<>();
    private final AtomicLong compilations = new AtomicLong();

    KernelCompiler(NvrtcBinding nvrtc, CubinDiskCache diskCache) {
        this(nvrtc, diskCache, KernelSources.shipped().headers(), CudaHeaders.locate());
    }

    KernelCompiler(NvrtcBinding nvrtc, CubinDiskCache diskCache, Map<String, String> headers,
                   Optional<Path> cudaHeaders) {
        this.nvrtc = nvrtc;
        this.diskCache = diskCache;
        this.headers = new TreeMap<>(headers);
        this.cudaHeaders = cudaHeaders;
    }

    /** The default on-disk cubin folder: {@code <cache root>/cubin}. */
    public static CubinDiskCache defaultDiskCache() {
        return new CubinDiskCache(LacunaConfig.cacheRoot().resolve("cubin"));
    }

    public CompiledKernel compile(CompileRequest request) {
        List<String> options = options(request);
        String key = cacheKey(request, options);
        CompiledKernel cached = memoryCache.get(key);
        if (cached != null) {
            return new CompiledKernel(request, key, cached.cubin(), cached.log(), CompiledKernel.Origin.MEMORY_CACHE);
        }
        Optional<CubinDiskCache.Entry> onDisk = diskCache.read(key);
        if (onDisk.isPresent()) {
            CompiledKernel kernel = new CompiledKernel(request, key, onDisk.get().cubin(), onDisk.get().log(),
                    CompiledKernel.Origin.DISK_CACHE);
            memoryCache.put(key, kernel);
            return kernel;
        }
        CompiledKernel kernel = compileNow(request, options, key);
        memoryCache.put(key, kernel);
        diskCache.write(key, kernel.cubin(), kernel.log());
        return kernel;
    }

    /** How many times this compiler actually ran NVRTC (cache hits do not count). */
    public long compilations() {
        return compilations.get();
    }

    public NvrtcBinding nvrtc() {
        return nvrtc;
    }

    public CubinDiskCache diskCache() {
        return diskCache;
    }

    /** Which headers kernels compile with, said plainly for {@code lacuna info} and compile reports. */
    public String headerSource() {
        return "shipped headers " + headers.keySet()
                + cudaHeaders.map(p -> "; CUDA headers from " + p + " for kernels that include them")
                        .orElse("; no CUDA headers found (CUDA_HOME, CUDA_PATH, /usr/local/cuda): kernels must include only shipped headers");
    }

    private CompiledKernel compileNow(CompileRequest request, List<String> options, String key) {
        String source = request.source().text();
        if (LacunaConfig.printSource()) {
            System.err.println("// ---- lacuna: compiling " + request.displayName() + " with " + options + "\n" + source);
        }
        long start = System.nanoTime();
        NvrtcBinding.NvrtcResult result = nvrtc.compile(source, request.source().fileName(), headers, options);
        compilations.incrementAndGet();
        if (!result.success()) {
            String hint = includesUnshippedHeader(source) && cudaHeaders.isEmpty()
                    ? "\n(the kernel includes a CUDA header and none was found under CUDA_HOME, CUDA_PATH or /usr/local/cuda)"
                    : "";
            throw new CompilationException(request.displayName(), String.join(" ", options), result.log() + hint);
        }
        LOG.log(System.Logger.Level.DEBUG, () -> String.format("compiled %s in %.0f ms", request.displayName(),
                (System.nanoTime() - start) / 1e6));
        return new CompiledKernel(request, key, result.cubin(), result.log(), CompiledKernel.Origin.COMPILED);
    }

    private boolean includesUnshippedHeader(String source) {
        return source.lines().map(String::strip).filter(l -> l.startsWith("#include"))
                .anyMatch(l -> headers.keySet().stream().noneMatch(l::contains));
    }

    List<String> options(CompileRequest request) {
        List<String> options = new ArrayList<>();
        options.add("--gpu-architecture=" + request.architecture());
        options.add("--std=c++17");
        options.add("--ptxas-options=-v");
        options.add("-DLACUNA_ARCH=" + request.architecture().replaceAll("\\D", ""));
        request.constants().forEach((name, value) -> options.add("-D" + name + "=" + value));
        cudaHeaders.ifPresent(p -> {
            if (includesUnshippedHeader(request.source().text())) {
                options.add("--include-path=" + p);
            }
        });
        return options;
    }

    String cacheKey(CompileRequest request, List<String> options) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            update(digest, "source", request.source().text());
            headers.forEach((name, text) -> update(digest, "header:" + name, text));
            update(digest, "options", String.join("\u0000", options));
            update(digest, "arch", request.architecture());
            update(digest, "nvrtc", Integer.toString(nvrtc.version()));
            return request.source().baseName() + "-" + HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static void update(MessageDigest digest, String label, String value) {
        byte[] labelBytes = label.getBytes(StandardCharsets.UTF_8);
        byte[] valueBytes = value.getBytes(StandardCharsets.UTF_8);
        // Length-prefixed so that no two different inputs concatenate to the same bytes.
        digest.update(java.nio.ByteBuffer.allocate(8).putInt(labelBytes.length).putInt(valueBytes.length).array());
        digest.update(labelBytes);
        digest.update(valueBytes);
    }
}
