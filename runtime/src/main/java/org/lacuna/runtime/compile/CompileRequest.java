package org.lacuna.runtime.compile;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.lacuna.kernels.KernelSource;

/**
 * What to compile: a shipped source, its specialisation constants (each becomes {@code -DNAME=value}) and the
 * target architecture ({@code sm_80}, {@code sm_90a}, ...).
 */
public record CompileRequest(KernelSource source, Map<String, String> constants, String architecture) {
    public CompileRequest {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(architecture, "architecture");
        if (!architecture.matches("sm_\\d{2,3}[af]?")) {
            throw new IllegalArgumentException("architecture must look like sm_80 or sm_90a, not " + architecture);
        }
        constants = java.util.Collections.unmodifiableMap(new TreeMap<>(constants));
    }

    /** A short human-readable name for logs: {@code bias_activation.cu[T_IN=f16,ACT=gelu]@sm_90a}. */
    public String displayName() {
        return source.fileName() + constants.toString().replace(" ", "").replace('{', '[').replace('}', ']')
                + "@" + architecture;
    }
}
