package org.lacuna.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.NpyWriter;
import org.lacuna.api.onnx.OnnxEncoder;
import org.lacuna.api.text.Pooling;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * Sentence embeddings from a BERT-family ONNX encoder: texts from the arguments, a file or standard input, one
 * embedding per text on standard output (or {@code --output}), a summary on standard error.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Embed sentences with a BERT-family encoder read from ONNX (default: all-MiniLM-L6-v2 when "
                + "it is on the class path).",
                "Texts come from the arguments, else --file (one per line), else standard input (one per line).",
                "Exit codes: 0 every text embedded; 1 usage error; 2 bad input (no text, unreadable file, model or "
                + "tokenizer not usable); 3 any other failure."})
final class EmbedCommand implements Callable<Integer> {
    static final int BAD_INPUT = ExitCodes.BAD_INPUT;

    enum Format { jsonl, npy }

    enum BackendChoice { auto, cpu, cuda }

    enum PoolingChoice { mean, cls }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to embed.")
    List<String> texts = new ArrayList<>();

    @Option(names = {"-f", "--file"}, paramLabel = "PATH", description = "Read texts from this file, one per line "
            + "(blank lines skipped); '-' for standard input.")
    String file;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "ONNX encoder (default: the bundled "
            + "all-MiniLM-L6-v2).")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "tokenizer.json (default: tokenizer.json or "
            + "<model>-tokenizer.json beside the model).")
    Path tokenizer;

    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl (one {\"index\", \"text\", "
            + "\"embedding\"} object a line) or npy (float32 [texts, dim]). Default ${DEFAULT-VALUE}.")
    Format format;

    @Option(names = {"-o", "--output"}, paramLabel = "PATH", description = "Write here instead of standard output.")
    Path output;

    @Option(names = "--backend", defaultValue = "auto", description = "cpu, cuda or auto (the best available). "
            + "Default ${DEFAULT-VALUE}.")
    BackendChoice backend;

    @Option(names = "--max-length", defaultValue = "0", description = "Truncate texts to this many tokens "
            + "(default: the tokenizer's, else the model's positions).")
    int maxLength;

    @Option(names = "--batch-size", defaultValue = "32", description = "Texts per encoder pass. Default "
            + "${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--pooling", defaultValue = "mean", description = "mean or cls (for --model; the bundled "
            + "model always uses mean). Default ${DEFAULT-VALUE}.")
    PoolingChoice pooling;

    @Option(names = "--no-normalize", description = "Leave the pooled embeddings unnormalised (for --model).")
    boolean noNormalize;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (batchSize <= 0 || maxLength < 0) {
            err.println("lacuna embed: --batch-size must be positive and --max-length not negative");
            return BAD_INPUT;
        }
        List<String> inputs;
        try {
            inputs = readTexts();
        } catch (NoSuchFileException e) {
            err.println("lacuna embed: no such file: " + e.getFile());
            return BAD_INPUT;
        }
        if (inputs.isEmpty()) {
            err.println("lacuna embed: no text to embed (give texts as arguments, --file PATH, or lines on stdin)");
            return BAD_INPUT;
        }
        if (model == null && !SentenceEmbedder.bundledAvailable()) {
            err.println("lacuna embed: no --model given and all-MiniLM-L6-v2 is not on the class path");
            return BAD_INPUT;
        }
        long start = System.nanoTime();
        try (Session session = backend == BackendChoice.auto ? Lacuna.open() : Lacuna.open(backend.name(), 0);
             SentenceEmbedder embedder = model == null ? SentenceEmbedder.bundled(session, maxLength)
                     : SentenceEmbedder.open(session, model, tokenizer, maxLength,
                             new Pooling(Pooling.Mode.valueOf(pooling.name().toUpperCase(java.util.Locale.ROOT)), !noNormalize))) {
            long loaded = System.nanoTime();
            float[][] embeddings = embedder.embed(inputs, batchSize); // on the host already: nothing left to wait for
            long done = System.nanoTime();
            write(inputs, embeddings);
            OnnxEncoder.Summary m = embedder.encoder().model();
            double seconds = (done - loaded) / 1e9;
            err.printf("embed: %d text(s) with %s [%d layers, hidden %d, %d heads × %d, ffn %d, max %d tokens, %s "
                            + "pooling%s] on %s (%s, %s)%n", inputs.size(), embedder.name(), m.layers(),
                    m.hidden(), m.heads(), m.headDim(), m.ffnHidden(), embedder.tokenizer().maxLength(),
                    embedder.pooling().mode().name().toLowerCase(java.util.Locale.ROOT),
                    embedder.pooling().normalize() ? " + L2 normalise" : "", session.backendName(),
                    session.device().name(), session.backendReason());
            err.printf("embed: load %.2f s, encode %.2f s: %.1f sentences/s%n", (loaded - start) / 1e9, seconds,
                    inputs.size() / seconds);
            return 0;
        } catch (LacunaException e) {
            if (e.code() == ErrorCode.MALFORMED_INPUT || e.code() == ErrorCode.NOT_SUPPORTED
                    || e.code() == ErrorCode.INVALID_ARGUMENT || e.code() == ErrorCode.SHAPE_MISMATCH) {
                err.println("lacuna embed: " + e.getMessage());
                return BAD_INPUT;
            }
            throw e;
        }
    }

    private List<String> readTexts() throws IOException {
        if (!texts.isEmpty()) {
            return texts;
        }
        String content;
        if (file != null && !file.equals("-")) {
            content = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        } else {
            InputStream in = System.in;
            content = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return content.lines().filter(line -> !line.isBlank()).toList();
    }

    private void write(List<String> inputs, float[][] embeddings) throws IOException {
        OutputStream raw = output == null ? System.out : Files.newOutputStream(output);
        try (OutputStream out = new BufferedOutputStream(raw) {
            @Override
            public void close() throws IOException {
                // Flush standard output but leave it open for the rest of the process.
                if (output == null) {
                    flush();
                } else {
                    super.close();
                }
            }
        }) {
            if (format == Format.npy) {
                NpyWriter.writeFloat32(out, embeddings);
                return;
            }
            ObjectMapper json = new ObjectMapper();
            for (int i = 0; i < embeddings.length; i++) {
                ObjectNode line = json.createObjectNode();
                line.put("index", i);
                line.put("text", inputs.get(i));
                var array = line.putArray("embedding");
                for (float v : embeddings[i]) {
                    array.add(v);
                }
                out.write(json.writeValueAsBytes(line));
                out.write('\n');
            }
        }
    }
}
