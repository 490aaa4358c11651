package org.lacuna.cli;

import java.nio.file.Path;
import org.lacuna.api.text.SentenceEmbedder;
import picocli.CommandLine.Option;

/**
 * The {@code --model} option of the commands that run a sentence encoder (a picocli mixin of {@code lacuna embed} and
 * {@code lacuna plan}): an ONNX encoder given on the line, else the bundled all-MiniLM-L6-v2.
 */
final class EncoderModelOption {
    @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "ONNX encoder: the file, or a "
            + "sentence-transformers folder (model.onnx or onnx/model.onnx, its tokenizer.json and pooling config). "
            + "Default: the bundled all-MiniLM-L6-v2.")
    Path path;

    /** Whether the bundled encoder serves: no {@code --model} given. */
    boolean bundled() {
        return path == null;
    }

    /** Why no encoder can be had (no {@code --model} and the bundled one is not on the class path); null if one can. */
    String unavailableReason() {
        return bundled() && !SentenceEmbedder.bundledAvailable()
                ? "no --model given and all-MiniLM-L6-v2 is not on the class path" : null;
    }
}
