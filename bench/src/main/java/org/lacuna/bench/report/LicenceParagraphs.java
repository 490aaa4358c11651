package org.lacuna.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Real English text for the accuracy measurements: the paragraphs of the licence texts the OS ships under
 * {@code /usr/share/common-licenses}, whitespace collapsed, at least 40 characters, each distinct paragraph once
 * (GPL, GPL-3 and the like are links to one file).
 */
public final class LicenceParagraphs {
    public static final Path DEFAULT_DIR = Path.of("/usr/share/common-licenses");
    static final int MIN_CHARS = 40;

    private LicenceParagraphs() {
    }

    /** Up to {@code limit} distinct paragraphs of the files in {@code dir} (sorted by name); empty if it is absent. */
    public static List<String> read(Path dir, int limit) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path file : files) {
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            for (String paragraph : text.split("\\n\\s*\\n")) {
                String collapsed = paragraph.strip().replaceAll("\\s+", " ");
                if (collapsed.length() >= MIN_CHARS) {
                    out.add(collapsed);
                    if (out.size() == limit) {
                        return List.copyOf(out);
                    }
                }
            }
        }
        return List.copyOf(out);
    }
}
