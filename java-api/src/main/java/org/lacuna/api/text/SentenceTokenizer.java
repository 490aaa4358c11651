package org.lacuna.api.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.MalformedInputException;

/**
 * A Hugging Face {@code tokenizer.json} (normaliser, pre-tokeniser, WordPiece or BPE model, [CLS]/[SEP] template) run
 * by Hugging Face's own tokenizers library through DJL, whose jar carries the native library for Linux, macOS and
 * Windows, so it works offline. Sentences are truncated to {@link #maxLength()} tokens, special tokens included, and
 * never padded: the encoder takes them as a ragged batch.
 */
public final class SentenceTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;

    private SentenceTokenizer(HuggingFaceTokenizer tokenizer, int maxLength) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    /**
     * @param maxLength the truncation length, or 0 for the one tokenizer.json gives (or {@code fallbackLength} when it
     *                  gives none)
     */
    public static SentenceTokenizer open(Path tokenizerJson, int maxLength, int fallbackLength) {
        try {
            return open(Files.readAllBytes(tokenizerJson), tokenizerJson.toString(), maxLength, fallbackLength);
        } catch (NoSuchFileException e) {
            throw new MalformedInputException(tokenizerJson.toString(), "no such tokenizer file");
        } catch (IOException e) {
            throw new MalformedInputException(tokenizerJson.toString(), "cannot read: " + e.getMessage(), e);
        }
    }

    public static SentenceTokenizer open(InputStream tokenizerJson, String source, int maxLength, int fallbackLength) {
        try {
            return open(tokenizerJson.readAllBytes(), source, maxLength, fallbackLength);
        } catch (IOException e) {
            throw new MalformedInputException(source, "cannot read: " + e.getMessage(), e);
        }
    }

    private static SentenceTokenizer open(byte[] json, String source, int maxLength, int fallbackLength) {
        if (maxLength < 0) {
            throw InvalidInputException.argument("SentenceTokenizer.open", "max length must be positive, got "
                    + maxLength);
        }
        int length = maxLength > 0 ? maxLength : Math.min(declaredMaxLength(json, source, fallbackLength),
                fallbackLength);
        Map<String, String> options = Map.of("padding", "false", "truncation", "true",
                "maxLength", Integer.toString(length), "addSpecialTokens", "true");
        try {
            return new SentenceTokenizer(HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options),
                    length);
        } catch (IOException | RuntimeException e) {
            throw new MalformedInputException(source, "not a tokenizer the Hugging Face library accepts: "
                    + e.getMessage(), e);
        }
    }

    /** tokenizer.json's {@code truncation.max_length}, or {@code fallback} where it sets none. */
    private static int declaredMaxLength(byte[] json, String source, int fallback) {
        try {
            JsonNode truncation = new ObjectMapper().readTree(json).path("truncation");
            return truncation.path("max_length").isInt() ? truncation.path("max_length").asInt() : fallback;
        } catch (IOException e) {
            throw new MalformedInputException(source, "not JSON: " + e.getMessage(), e);
        }
    }

    /** The sentences' ids, token types and lengths. */
    public TokenBatch encode(List<String> texts) {
        return encodeMarkingTruncation(texts).batch();
    }

    /**
     * The sentences tokenised as {@link #encode} does, and which of them were cut to {@link #maxLength()} tokens:
     * a caller that must not embed a shortened text (a batch job that reports over-long rows) checks these.
     */
    public Encoded encodeMarkingTruncation(List<String> texts) {
        if (texts.isEmpty()) {
            throw InvalidInputException.argument("SentenceTokenizer.encode", "no texts");
        }
        Encoding[] encodings = tokenizer.batchEncode(texts);
        boolean[] truncated = new boolean[encodings.length];
        int total = 0;
        int[] lengths = new int[encodings.length];
        for (int i = 0; i < encodings.length; i++) {
            lengths[i] = encodings[i].getIds().length;
            truncated[i] = encodings[i].exceedMaxLength();
            total += lengths[i];
        }
        int[] ids = new int[total];
        int[] types = new int[total];
        int at = 0;
        for (Encoding e : encodings) {
            long[] eIds = e.getIds();
            long[] eTypes = e.getTypeIds();
            for (int t = 0; t < eIds.length; t++, at++) {
                ids[at] = Math.toIntExact(eIds[t]);
                types[at] = Math.toIntExact(eTypes[t]);
            }
        }
        return new Encoded(new TokenBatch(ids, types, lengths), truncated);
    }

    /** Tokenised sentences, and for each whether it was longer than the maximum length and cut to it. */
    public record Encoded(TokenBatch batch, boolean[] truncated) {
    }

    public int maxLength() {
        return maxLength;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
