package org.lacuna.kernels;

import java.util.List;
import java.util.Map;

/**
 * One shipped {@code .cu} file.
 *
 * @param fileName  e.g. {@code bias_activation.cu}
 * @param text      the source as shipped
 * @param variants  the specialisations the file declares on its {@code // lacuna-variants:} line (each a map of
 *                  constant → value, passed as {@code -D} options); the compile check builds every one of them
 * @param architectures the only targets the file supports, from its {@code // lacuna-architectures:} line
 *                  (e.g. {@code sm_90a} for wgmma kernels); empty means every supported architecture
 */
public record KernelSource(String fileName, String text, List<Map<String, String>> variants, List<String> architectures) {
    public KernelSource {
        variants = List.copyOf(variants);
        architectures = List.copyOf(architectures);
    }

    public KernelSource(String fileName, String text, List<Map<String, String>> variants) {
        this(fileName, text, variants, List.of());
    }

    /** Whether this source can be compiled for {@code architecture} (e.g. {@code sm_80}). */
    public boolean supports(String architecture) {
        return architectures.isEmpty() || architectures.contains(architecture);
    }

    /** The file name without {@code .cu}: also the name of its entry point by convention. */
    public String baseName() {
        return fileName.endsWith(".cu") ? fileName.substring(0, fileName.length() - 3) : fileName;
    }
}
