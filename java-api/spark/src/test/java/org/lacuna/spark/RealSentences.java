package org.lacuna.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real English sentences: the licence texts the OS ships under /usr/share/common-licenses, split at full stops. */
final class RealSentences {
    static final Path LICENSES = Path.of("/usr/share/common-licenses");
    private static final String[] FILES = {"Apache-2.0", "GPL-3", "MPL-2.0", "BSD", "Artistic"};

    private RealSentences() {
    }

    static boolean available() {
        return Files.isRegularFile(LICENSES.resolve(FILES[0])) && Files.isRegularFile(LICENSES.resolve(FILES[1]));
    }

    /** Up to {@code count} sentences of 3 to 400 characters, in file order. */
    static List<String> sentences(int count) {
        List<String> out = new ArrayList<>(count);
        for (String file : FILES) {
            Path path = LICENSES.resolve(file);
            if (!Files.isRegularFile(path)) {
                continue;
            }
            for (String sentence : read(path).split("(?<=[.;:])\\s+")) {
                String clean = sentence.replaceAll("\\s+", " ").trim();
                if (clean.length() >= 3 && clean.length() <= 400) {
                    out.add(clean);
                    if (out.size() == count) {
                        return out;
                    }
                }
            }
        }
        return out;
    }

    /** A real paragraph far longer than a 128-token model takes: the start of the GPL, whitespace folded. */
    static String overLong() {
        String text = read(LICENSES.resolve("GPL-3")).replaceAll("\\s+", " ").trim();
        return text.substring(0, Math.min(text.length(), 4000));
    }

    private static String read(Path path) {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
