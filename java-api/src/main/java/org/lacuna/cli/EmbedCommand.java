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
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lacuna.api.Session;
import org.lacuna.api.io.NpyWriter;
import org.lacuna.api.models.EncoderSparsity;
import org.lacuna.api.onnx.OnnxEncoder;
import org.lacuna.api.text.EmbeddingAgreement;
import org.lacuna.api.text.Pooling;
import org.lacuna.api.text.SentenceTransformersLayout;
import org.lacuna.api.text.SentenceEmbedder;
import org.lacuna.api.text.SentenceModel;
import org.lacuna.runtime.error.LacunaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Sentence embeddings from a BERT-family ONNX encoder: texts from the arguments, a file or standard input, one
 * embedding per text on standard output (or {@code --output}), a summary on standard error.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Embed sentences with a BERT-family encoder read from ONNX (default: all-MiniLM-L6-v2 when "
                + "it is on the class path).",
                "Texts come from the arguments, else --file (one per line), else standard input (one per line).",
                "With --prune or --keep the encoder runs sparse; it then also runs dense on the same texts and reports "
                + "the cosine similarity to the dense embeddings (mean, min) and the measured speed-up.",
                "Exit codes: 0 every text embedded; 1 usage error; 2 bad input (no text, unreadable file, model or "
                + "tokenizer not usable); 3 any other failure."})
final class EmbedCommand implements Callable<Integer> {
    static final int BAD_INPUT = ExitCodes.BAD_INPUT;

    enum Format { jsonl, npy }

    enum PoolingChoice { mean, cls, max }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to embed.")
    List<String> texts = new ArrayList<>();

    @Option(names = {"-f", "--file"}, paramLabel = "PATH", description = "Read texts from this file, one per line "
            + "(blank lines skipped); '-' for standard input.")
    String file;

    @CommandLine.Mixin
    EncoderModelOption model = new EncoderModelOption();

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "tokenizer.json (default: tokenizer.json or "
            + "<model>-tokenizer.json beside the model).")
    Path tokenizer;

    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl (one {\"index\", \"text\", "
            + "\"embedding\"} object a line) or npy (float32 [texts, dim]). Default ${DEFAULT-VALUE}.")
    Format format;

    @Option(names = {"-o", "--output"}, paramLabel = "PATH", description = "Write here instead of standard output.")
    Path output;

    @CommandLine.Mixin
    BackendOption backend = new BackendOption();

    @Option(names = "--max-length", defaultValue = "0", description = "Truncate texts to this many tokens "
            + "(default: the tokenizer's, else the model's positions).")
    int maxLength;

    @Option(names = "--batch-size", defaultValue = "32", description = "Texts per encoder pass. Default "
            + "${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--pooling", description = "mean, cls or max (for --model). Default: what the model's "
            + "sentence-transformers files say (modules.json, 1_Pooling/config.json beside the ONNX file), else mean. "
            + "Given, the model's Pooling config is not read (one Lacuna cannot honour does not matter then); "
            + "normalisation still follows modules.json (see --no-normalize).")
    PoolingChoice pooling;

    @Option(names = "--no-normalize", description = "Leave the pooled embeddings unnormalised (for --model; by "
            + "default they are L2-normalised where modules.json lists a Normalize module or there is no "
            + "modules.json).")
    boolean noNormalize;

    @CommandLine.Mixin
    SparsityOptions sparsityOptions = new SparsityOptions();

    @Option(names = "--no-compare", description = "With sparsity on, skip the dense run (no cosine, no speed-up).")
    boolean noCompare;

    @Option(names = "--repeat", defaultValue = "3", description = "Timed passes of each encoder for the speed-up "
            + "(median; after an untimed first pass). Default ${DEFAULT-VALUE}.")
    int repeat;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (batchSize <= 0 || maxLength < 0 || repeat < 1) {
            err.println("lacuna embed: --batch-size and --repeat must be positive and --max-length not negative");
            return ExitCodes.USAGE;
        }
        SparsityOptions.Request request;
        try {
            request = sparsityOptions.request();
        } catch (LacunaException e) {
            err.println("lacuna embed: " + e.getMessage());
            return ExitCodes.USAGE;
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
        if (model.unavailableReason() != null) {
            err.println("lacuna embed: " + model.unavailableReason());
            return BAD_INPUT;
        }
        long start = System.nanoTime();
        try (Session session = backend.open();
             SentenceModel loaded = model.bundled() ? SentenceModel.bundled(maxLength) : openModel()) {
            EncoderSparsity sparsity;
            try {
                sparsity = request.resolve(loaded.summary().layers());
            } catch (LacunaException e) { // an option that does not fit this model (--from-layer past its depth)
                err.println("lacuna embed: " + e.getMessage());
                return ExitCodes.USAGE;
            }
            try (SentenceEmbedder embedder = loaded.embedder(session, sparsity);
                 SentenceEmbedder dense = sparsity.isDense() || noCompare ? null
                         : loaded.embedder(session, EncoderSparsity.DENSE)) {
                long ready = System.nanoTime();
                float[][] embeddings = embed(embedder, inputs, err); // on the host already: nothing left to wait for
                long done = System.nanoTime();
                Comparison comparison = dense == null ? null : compare(embedder, dense, inputs, embeddings, err);
                write(inputs, embeddings, comparison == null ? null : comparison.agreement());
                summarise(err, session, embedder, loaded.poolingSource(), inputs.size(), (ready - start) / 1e9,
                        (done - ready) / 1e9);
                if (comparison != null) {
                    comparison.print(err, repeat);
                }
                return ExitCodes.OK;
            }
        } catch (LacunaException e) {
            if (ExitCodes.of(e) == ExitCodes.BAD_INPUT) {
                err.println("lacuna embed: " + e.getMessage());
                return BAD_INPUT;
            }
            throw e;
        }
    }

    /**
     * {@code --model} with the pooling its sentence-transformers files ask for, or the one the options force: a given
     * {@code --pooling} is used without reading the model's Pooling config (normalisation still follows modules.json
     * unless {@code --no-normalize}).
     */
    private SentenceModel openModel() {
        if (pooling == null && !noNormalize) {
            return SentenceModel.open(model.path, tokenizer, maxLength);
        }
        SentenceTransformersLayout layout = SentenceTransformersLayout.of(model.path);
        Pooling.Mode mode = pooling == null ? null : Pooling.Mode.valueOf(pooling.name().toUpperCase(Locale.ROOT));
        SentenceTransformersLayout.ConfiguredPooling chosen;
        if (!noNormalize) {
            chosen = layout.withMode(mode);
        } else if (mode != null) { // both given: nothing of the model's pooling is read
            chosen = new SentenceTransformersLayout.ConfiguredPooling(new Pooling(mode, false),
                    "--pooling " + pooling + " --no-normalize");
        } else {
            SentenceTransformersLayout.ConfiguredPooling configured = layout.configuredPooling();
            chosen = new SentenceTransformersLayout.ConfiguredPooling(
                    new Pooling(configured.pooling().mode(), false), configured.source() + "; --no-normalize");
        }
        return SentenceModel.open(layout, tokenizer, maxLength, chosen);
    }

    /** Embeds batch by batch, saying how far it got every few seconds on long inputs. */
    private float[][] embed(SentenceEmbedder embedder, List<String> inputs, PrintWriter err) {
        List<float[]> out = new ArrayList<>(inputs.size());
        long lastReport = System.nanoTime();
        for (int from = 0; from < inputs.size(); from += batchSize) {
            List<String> batch = inputs.subList(from, Math.min(inputs.size(), from + batchSize));
            out.addAll(List.of(embedder.embed(batch, batchSize)));
            if (System.nanoTime() - lastReport > PROGRESS_NANOS && out.size() < inputs.size()) {
                err.printf(Locale.ROOT, "embed: %d/%d texts%n", out.size(), inputs.size());
                err.flush();
                lastReport = System.nanoTime();
            }
        }
        return out.toArray(float[][]::new);
    }

    private static final long PROGRESS_NANOS = 2_000_000_000L;

    /** The sparse embeddings against the dense ones, and each encoder's median time over {@code repeat} passes. */
    record Comparison(EmbeddingAgreement agreement, String sparsity, double denseSeconds, double sparseSeconds) {
        double speedUp() {
            return denseSeconds / sparseSeconds;
        }

        void print(PrintWriter err, int passes) {
            err.printf(Locale.ROOT, "embed: %s vs dense: cosine mean %.6f, min %.6f (text %d) over %d text(s)%n",
                    sparsity, agreement.mean(), agreement.min(), agreement.minIndex(), agreement.count());
            err.printf(Locale.ROOT, "embed: speed-up %.3fx (dense %.1f ms, sparse %.1f ms: medians of %d "
                    + "alternating passes, wall clock)%n", speedUp(), denseSeconds * 1e3, sparseSeconds * 1e3, passes);
        }
    }

    private Comparison compare(SentenceEmbedder sparse, SentenceEmbedder dense, List<String> inputs,
                               float[][] sparseEmbeddings, PrintWriter err) {
        float[][] reference = dense.embed(inputs, batchSize); // also the dense encoder's untimed first pass
        double[] denseTimes = new double[repeat];
        double[] sparseTimes = new double[repeat];
        for (int r = 0; r < repeat; r++) {
            // Alternating, so drift in the machine's load falls on both sides alike.
            denseTimes[r] = seconds(() -> dense.embed(inputs, batchSize));
            sparseTimes[r] = seconds(() -> sparse.embed(inputs, batchSize));
        }
        return new Comparison(EmbeddingAgreement.of(reference, sparseEmbeddings), sparse.encoder().sparsity().describe(),
                median(denseTimes), median(sparseTimes));
    }

    private static double seconds(Runnable run) {
        long start = System.nanoTime();
        run.run();
        return (System.nanoTime() - start) / 1e9;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static void summarise(PrintWriter err, Session session, SentenceEmbedder embedder, String poolingSource,
                                  int texts, double loadSeconds, double encodeSeconds) {
        OnnxEncoder.Summary m = embedder.encoder().model();
        err.printf("embed: %d text(s) with %s [%d layers, hidden %d, %d heads × %d, ffn %d, max %d tokens, %s "
                        + "pooling%s, %s] on %s (%s, %s)%n", texts, embedder.name(), m.layers(),
                m.hidden(), m.heads(), m.headDim(), m.ffnHidden(), embedder.tokenizer().maxLength(),
                embedder.pooling().mode().name().toLowerCase(Locale.ROOT),
                embedder.pooling().normalize() ? " + L2 normalise" : "", embedder.encoder().sparsity().describe(),
                session.backendName(), session.device().name(), session.backendReason());
        err.printf("embed: pooling from %s%n", poolingSource);
        err.printf(Locale.ROOT, "embed: load %.2f s, encode %.2f s: %.1f sentences/s%n", loadSeconds, encodeSeconds,
                texts / encodeSeconds);
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

    /** @param agreement null, or the cosine of each embedding to the dense one (a jsonl field then) */
    private void write(List<String> inputs, float[][] embeddings, EmbeddingAgreement agreement) throws IOException {
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
                if (agreement != null) {
                    line.put("cosine_to_dense", agreement.cosines()[i]);
                }
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
