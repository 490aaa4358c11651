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
 */
public record KernelSource(String fileName, String text, List<Map<String, String>> variants) {
    public KernelSource {
        variants = List.copyOf(variants);
    }

    /** The file name without {@code .cu}: also the name of its entry point by convention. */
    public String baseName() {
        return fileName.endsWith(".cu") ? fileName.substring(0, fileName.length() - 3) : fileName;
    }
}
