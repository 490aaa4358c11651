package org.lacuna.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
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
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** What Lacuna sees on this machine: JDK, backends and why one is unavailable, devices, bindings, caches. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the JDK, backends (and why one is unavailable), devices, native bindings and caches.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--json", description = "Print as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Map<String, Object> info = collect();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(info));
        } else {
            print(out, info, "");
        }
        out.flush();
        return 0;
    }

    static Map<String, Object> collect() {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("jdk", Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        info.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        // Up front: whether this JVM runs the CPU backend's fast kernels, and the flags that turn them on if not.
        info.put("cpu kernels", CpuCapabilities.summary(CpuOptions.fromConfig()));

        List<Map<String, Object>> backends = new ArrayList<>();
        for (Backends.Candidate candidate : Backends.survey()) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", candidate.provider().name());
            b.put("rank", candidate.provider().rank());
            b.put("available", candidate.availability().available());
            b.put(candidate.availability().available() ? "detail" : "unavailable because", candidate.availability().reason());
            backends.add(b);
        }
        info.put("backends", backends);
        try {
            Backends.Selection selection = Backends.select();
            info.put("serving backend", selection.chosen().provider().name() + " (" + selection.reason() + ")");
            try (Backend backend = selection.chosen().provider().open(0)) {
                info.put("device", describe(backend.device()));
            }
        } catch (LacunaException e) {
            info.put("serving backend", "none: " + e.getMessage());
        }

        Map<String, Object> libraries = new LinkedHashMap<>();
        libraries.put("nvrtc", report(NvrtcBindings::report));
        libraries.put("cublas", report(BlasBindings::report));
        libraries.put("cusparse", report(SparseBindings::report));
        info.put("native libraries", libraries);
        info.put("cuda headers", CudaHeaders.locate().map(Path::toString)
                .orElse("none found (kernels compile with their shipped headers only)"));

        Path cache = LacunaConfig.cacheRoot();
        Map<String, Object> caches = new LinkedHashMap<>();
        caches.put("folder", cache.toString() + " (set with -Dlacuna.cacheDir or LACUNA_CACHE_DIR)");
        List<Path> entries = KernelCompiler.defaultDiskCache().entries();
        long bytes = entries.stream().mapToLong(p -> {
            try {
                return Files.size(p);
            } catch (IOException e) {
                return 0;
            }
        }).sum();
        caches.put("cubin entries", entries.size() + " (" + bytes / 1024 + " KiB)");
        info.put("kernel cache", caches);
        return info;
    }

    private static Map<String, Object> describe(DeviceInfo device) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", device.name());
        if (device.computeCapability() > 0) {
            d.put("compute capability", device.computeCapability() / 10 + "." + device.computeCapability() % 10
                    + " (kernels compiled for " + device.targetArchitecture() + ")");
            d.put("multiprocessors", device.multiprocessors());
            d.put("memory", device.totalMemoryBytes() / (1 << 20) + " MiB");
            d.put("driver CUDA version", DeviceInfo.versionString(device.driverVersion()));
        } else {
            d.put("threads", device.multiprocessors());
        }
        return d;
    }

    private static Object report(java.util.function.Supplier<NativeLibraryReport> supplier) {
        try {
            NativeLibraryReport report = supplier.get();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("served by", report.servingBinding().orElse("not available"));
            r.put("search", report.attempts().stream().map(a -> a.describe()).toList());
            return r;
        } catch (RuntimeException | LinkageError e) {
            return "report failed: " + e;
        }
    }

    @SuppressWarnings("unchecked")
    private static void print(PrintWriter out, Object value, String indent) {
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (e.getValue() instanceof Map<?, ?> || e.getValue() instanceof List<?>) {
                    out.println(indent + e.getKey() + ":");
                    print(out, e.getValue(), indent + "  ");
                } else {
                    out.println(indent + e.getKey() + ": " + e.getValue());
                }
            }
        } else if (value instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof Map<?, ?> m) {
                    out.println(indent + "-");
                    print(out, m, indent + "  ");
                } else {
                    out.println(indent + "- " + item);
                }
            }
        } else {
            out.println(indent + value);
        }
    }
}
