package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedCommandTest {
    @TempDir
    Path dir;

    @Test
    void embedsWithTheBundledModelIntoNpyAndSaysWhatRan() throws Exception {
        Path npy = dir.resolve("e.npy");
        Path texts = dir.resolve("texts.txt");
        Files.writeString(texts, "A man is eating food.\n\nSomeone is eating.\n");
        String[] result = CliRun.run("embed", "--backend", "cpu", "--file", texts.toString(), "--format", "npy",
                "-o", npy.toString());
        assertEquals("0", result[0], result[2]);
        assertTrue(result[2].contains("2 text(s) with all-MiniLM-L6-v2 [6 layers, hidden 384, 12 heads × 32"),
                result[2]);
        assertTrue(result[2].contains("sentences/s"), result[2]);
        byte[] bytes = Files.readAllBytes(npy);
        String header = new String(bytes, 10, 118, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'shape': (2, 384)"), header);
        assertEquals(128 + 2 * 384 * 4, bytes.length);
        ByteBuffer data = ByteBuffer.wrap(bytes, 128, 384 * 4).order(ByteOrder.LITTLE_ENDIAN);
        double norm = 0;
        for (int i = 0; i < 384; i++) {
            float v = data.getFloat();
            norm += v * v;
        }
        assertEquals(1.0, norm, 1e-4, "normalised embedding");
    }

    @Test
    void badInputExitsWithTwoAndSaysWhy() throws Exception {
        String[] missing = CliRun.run("embed", "--model", dir.resolve("none.onnx").toString(), "hello");
        assertEquals("2", missing[0]);
        assertTrue(missing[2].contains("no such ONNX file"), missing[2]);
        Path garbage = dir.resolve("garbage.onnx");
        Files.writeString(garbage, "not a model");
        String[] corrupt = CliRun.run("embed", "--model", garbage.toString(), "--tokenizer", garbage.toString(), "hello");
        assertEquals("2", corrupt[0]);
        assertTrue(corrupt[2].contains("garbage.onnx"), corrupt[2]);
        String[] noFile = CliRun.run("embed", "--file", dir.resolve("none.txt").toString());
        assertEquals("2", noFile[0]);
        assertTrue(noFile[2].contains("no such file"), noFile[2]);
    }
}
