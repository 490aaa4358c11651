package org.lacuna.runtime.diagnostics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.Backends;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.compile.CudaHeaders;
import org.lacuna.runtime.compile.KernelCompiler;
import org.lacuna.runtime.cpu.CpuCapabilities;
import org.lacuna.runtime.cpu.CpuOptions;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.internal.blas.BlasBindings;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.internal.nvrtc.NvrtcBindings;
import org.lacuna.runtime.internal.sparse.SparseBindings;

/**
 * What the runtime sees on this machine, as plain values: the CPU kernels' mode, every backend and why one is
 * unavailable, the serving backend and its device, where each CUDA library was looked for, the CUDA headers and the
 * kernel cache. {@code lacuna info} prints it; nothing here depends on a backend being available.
 *
 * @param cpuKernels      whether this JVM runs the CPU backend's fast kernels, and the flags that turn them on if not
 * @param backends        every backend found, in ServiceLoader order
 * @param servingBackend  the backend that would serve and why, or {@code "none: <reason>"}
 * @param device          the serving backend's device, or null when none serves (or it failed to open)
 * @param libraries       nvrtc, cublas and cusparse: which binding serves each and where it was looked for
 * @param cudaHeaders     the CUDA toolkit headers kernels compile against, or null (shipped headers only)
 * @param cacheFolder     the cache root ({@code -Dlacuna.cacheDir} / {@code LACUNA_CACHE_DIR})
 * @param cubinEntries    compiled kernels in the on-disk cache
 * @param cubinBytes      their total size
 */
public record RuntimeDiagnostics(String cpuKernels, List<BackendStatus> backends, String servingBackend,
                                 DeviceInfo device, List<NativeLibrary> libraries, Path cudaHeaders,
                                 Path cacheFolder, int cubinEntries, long cubinBytes) {
    public RuntimeDiagnostics {
        backends = List.copyOf(backends);
        libraries = List.copyOf(libraries);
    }

    /** One backend provider and whether it can serve here. */
    public record BackendStatus(String name, int rank, boolean available, String reason) {
    }

    /**
     * One native library.
     *
     * @param servedBy the serving binding, or null when none could be bound
     * @param search   every place looked at, in order, one line each
     * @param failure  why the search itself failed, or null
     */
    public record NativeLibrary(String name, String servedBy, List<String> search, String failure) {
        public NativeLibrary {
            search = List.copyOf(search);
        }
    }

    public Optional<DeviceInfo> servingDevice() {
        return Optional.ofNullable(device);
    }

    /** Looks everything up now; a library or backend that fails to load is reported, never thrown. */
    public static RuntimeDiagnostics collect() {
        List<BackendStatus> backends = new ArrayList<>();
        for (Backends.Candidate candidate : Backends.survey()) {
            backends.add(new BackendStatus(candidate.provider().name(), candidate.provider().rank(),
                    candidate.availability().available(), candidate.availability().reason()));
        }
        String serving;
        DeviceInfo device = null;
        try {
            Backends.Selection selection = Backends.select();
            serving = selection.chosen().provider().name() + " (" + selection.reason() + ")";
            try (Backend backend = selection.chosen().provider().open(0)) {
                device = backend.device();
            }
        } catch (LacunaException e) {
            serving = "none: " + e.getMessage();
        }
        List<NativeLibrary> libraries = List.of(library("nvrtc", NvrtcBindings::report),
                library("cublas", BlasBindings::report), library("cusparse", SparseBindings::report));
        List<Path> entries = KernelCompiler.defaultDiskCache().entries();
        long bytes = entries.stream().mapToLong(RuntimeDiagnostics::sizeOrZero).sum();
        return new RuntimeDiagnostics(CpuCapabilities.summary(CpuOptions.fromConfig()), backends, serving, device,
                libraries, CudaHeaders.locate().orElse(null), LacunaConfig.cacheRoot(), entries.size(), bytes);
    }

    private static NativeLibrary library(String name, Supplier<NativeLibraryReport> report) {
        try {
            NativeLibraryReport r = report.get();
            return new NativeLibrary(name, r.servingBinding().orElse(null),
                    r.attempts().stream().map(a -> a.describe()).toList(), null);
        } catch (RuntimeException | LinkageError e) {
            return new NativeLibrary(name, null, List.of(), e.toString());
        }
    }

    private static long sizeOrZero(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }
}
