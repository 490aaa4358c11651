package org.lacuna.runtime.compile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where CUDA's own headers are, for kernels that include one (Lacuna's shipped kernels include none, so they
 * compile on a machine with no CUDA install). Looked up in CUDA_HOME, CUDA_PATH, then /usr/local/cuda.
 */
public final class CudaHeaders {
    private CudaHeaders() {
    }

    public static Optional<Path> locate() {
        return locate(System::getenv);
    }

    static Optional<Path> locate(Function<String, String> env) {
        for (String variable : new String[] {"CUDA_HOME", "CUDA_PATH"}) {
            String root = env.apply(variable);
            if (root != null && !root.isBlank()) {
                Path include = Path.of(root, "include");
                if (Files.isRegularFile(include.resolve("cuda.h"))) {
                    return Optional.of(include);
                }
            }
        }
        Path standard = Path.of("/usr/local/cuda/include");
        return Files.isRegularFile(standard.resolve("cuda.h")) ? Optional.of(standard) : Optional.empty();
    }
}
