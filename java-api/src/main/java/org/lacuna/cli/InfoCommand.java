package org.lacuna.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.diagnostics.RuntimeDiagnostics;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * What Lacuna sees on this machine. First, in a few lines, which backend serves and why (and why not CUDA, where it
 * cannot open); with {@code --verbose} every backend, device, native binding with its search paths, and the caches.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Say which backend serves and why (why not CUDA, where it cannot open), the device and the CPU "
                + "kernels.", "With --verbose: every backend, the native bindings and their search paths, the caches."})
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--json", description = "Print everything as JSON.")
    boolean json;

    @CommandLine.Option(names = {"-v", "--verbose"}, description = "Also print the details: backends, native "
            + "libraries and where they were looked for, caches.")
    boolean verbose;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        RuntimeDiagnostics runtime = RuntimeDiagnostics.collect();
        if (json) {
            Map<String, Object> info = new LinkedHashMap<>(summary(runtime));
            info.putAll(collect(runtime));
            out.println(new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsString(info));
        } else {
            print(out, summary(runtime), "");
            if (verbose) {
                out.println();
                print(out, collect(runtime), "");
            } else {
                out.println("(details: lacuna info --verbose)");
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** The few lines a user needs first: which backend serves, why, why not CUDA, on what. */
    static Map<String, Object> summary(RuntimeDiagnostics runtime) {
        Map<String, Object> summary = new LinkedHashMap<>();
        String serving = runtime.servingBackend();
        // The fallback reason repeats the CUDA reason given on its own line below.
        int open = serving.indexOf(" (fallback:");
        summary.put("serving backend", open > 0 ? serving.substring(0, open) + " (the best available here)" : serving);
        for (RuntimeDiagnostics.BackendStatus status : runtime.backends()) {
            if (status.name().equals("cuda") && !status.available()) {
                summary.put("why not cuda", status.reason());
            }
        }
        runtime.servingDevice().ifPresent(device -> summary.put("device", device.name()
                + (device.computeCapability() > 0 ? ", compute capability " + device.computeCapability() / 10 + "."
                + device.computeCapability() % 10 : ""))); // a CPU device's name already gives its threads
        summary.put("cpu kernels", runtime.cpuKernels());
        return summary;
    }

    static Map<String, Object> collect(RuntimeDiagnostics runtime) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("jdk", Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        info.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));

        List<Map<String, Object>> backends = new ArrayList<>();
        for (RuntimeDiagnostics.BackendStatus status : runtime.backends()) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", status.name());
            b.put("rank", status.rank());
            b.put("available", status.available());
            b.put(status.available() ? "detail" : "unavailable because", status.reason());
            backends.add(b);
        }
        info.put("backends", backends);
        info.put("serving backend", runtime.servingBackend());
        runtime.servingDevice().ifPresent(device -> info.put("device", describe(device)));

        Map<String, Object> libraries = new LinkedHashMap<>();
        for (RuntimeDiagnostics.NativeLibrary library : runtime.libraries()) {
            libraries.put(library.name(), describe(library));
        }
        info.put("native libraries", libraries);
        info.put("cuda headers", runtime.cudaHeaders() != null ? runtime.cudaHeaders().toString()
                : "none found (kernels compile with their shipped headers only)");

        Map<String, Object> caches = new LinkedHashMap<>();
        caches.put("folder", runtime.cacheFolder() + " (set with -Dlacuna.cacheDir or LACUNA_CACHE_DIR)");
        caches.put("cubin entries", runtime.cubinEntries() + " (" + runtime.cubinBytes() / 1024 + " KiB)");
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

    private static Object describe(RuntimeDiagnostics.NativeLibrary library) {
        if (library.failure() != null) {
            return "report failed: " + library.failure();
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("served by", library.servedBy() != null ? library.servedBy() : "not available");
        r.put("search", library.search());
        return r;
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
