package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.error.MalformedInputException;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** A file with {@code header} as JSON and {@code data} after it, as the format lays them out. */
    private Path file(String name, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static byte[] le(int bytes, java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        fill.accept(b);
        return b.array();
    }

    @Test
    void readsEveryDtypeWithShapesAndOffsets() throws IOException {
        byte[] data = le(4 * 2 + 2 * 3 + 2 * 2 + 8 + 4 * 2, b -> {
            b.putFloat(1.5f).putFloat(-2f);                                        // F32 [2]      0..8
            b.putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-3f))
                    .putShort(Float.floatToFloat16(65504f));                       // F16 [1, 3]   8..14
            b.putShort((short) (Float.floatToIntBits(2.5f) >>> 16))
                    .putShort((short) (Float.floatToIntBits(-0.125f) >>> 16));     // BF16 [2, 1]  14..18
            b.putLong(123456789L);                                                 // I64 []       18..26
            b.putInt(-7).putInt(42);                                               // I32 [2]      26..34
        });
        String header = """
                {"__metadata__": {"format": "pt"},
                 "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                 "h": {"dtype": "F16", "shape": [1, 3], "data_offsets": [8, 14]},
                 "b": {"dtype": "BF16", "shape": [2, 1], "data_offsets": [14, 18]},
                 "n": {"dtype": "I64", "shape": [], "data_offsets": [18, 26]},
                 "i": {"dtype": "I32", "shape": [2], "data_offsets": [26, 34]}}""";
        Map<String, Safetensors.Entry> t = Safetensors.read(file("all.safetensors", header, data));
        assertEquals(List.of("a", "h", "b", "n", "i"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {1.5f, -2f}, t.get("a").values());
        assertArrayEquals(new float[] {0.5f, -3f, 65504f}, t.get("h").values());
        assertArrayEquals(new long[] {1, 3}, t.get("h").shape());
        assertArrayEquals(new float[] {2.5f, -0.125f}, t.get("b").values());
        assertArrayEquals(new long[] {2, 1}, t.get("b").shape());
        assertArrayEquals(new float[] {123456789L}, t.get("n").values());
        assertArrayEquals(new long[0], t.get("n").shape());
        assertArrayEquals(new float[] {-7, 42}, t.get("i").values());
        assertEquals("BF16", t.get("b").dtype());
    }

    @Test
    void writeThenReadRoundTripsRandomTensors() {
        Random random = new Random(4);
        List<Safetensors.Entry> entries = List.of(
                entry("stem.0.kernel", random, 27, 4, 8),
                entry("stem.1.weight", random, 8),
                entry("classifier.0.weight", random, 3, 5),
                entry("empty", random, 0, 4));
        Path p = dir.resolve("round.safetensors");
        Safetensors.write(p, entries);
        Map<String, Safetensors.Entry> back = Safetensors.read(p);
        assertEquals(4, back.size());
        for (Safetensors.Entry e : entries) {
            Safetensors.Entry r = back.get(e.name());
            assertArrayEquals(e.shape(), r.shape(), e.name());
            assertArrayEquals(e.values(), r.values(), e.name());
            assertEquals("F32", r.dtype());
        }
    }

    private static Safetensors.Entry entry(String name, Random random, long... shape) {
        float[] v = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return new Safetensors.Entry(name, "F32", shape, v);
    }

    @Test
    void malformedFilesNameTheFileAndTheTensor() throws IOException {
        byte[] eight = new byte[8];
        String good = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}";
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertMessage(tiny, "truncated before");
        Path cut = file("cut.safetensors", good, new byte[4]);
        assertMessage(cut, "tensor 'w'", "needs bytes up to 8", "holds 4");
        Path shortHeader = dir.resolve("header.safetensors");
        Files.write(shortHeader, le(12, b -> b.putLong(500).putInt(0)));
        assertMessage(shortHeader, "truncated", "500");
        assertMessage(file("json.safetensors", "{\"w\": [", eight), "not valid JSON");
        assertMessage(file("dtype.safetensors", good.replace("F32", "F64"), eight), "tensor 'w'", "F64");
        assertMessage(file("shape.safetensors", good.replace("[2]", "[3]"), new byte[12]), "tensor 'w'",
                "12 bytes", "span 8");
        assertMessage(file("neg.safetensors", good.replace("[2]", "[-2]"), eight), "tensor 'w'", "non-negative");
        assertMessage(file("offsets.safetensors", good.replace("[0, 8]", "[8, 0]"), eight), "tensor 'w'", "begin");
        assertMessage(file("nooff.safetensors", good.replace(", \"data_offsets\": [0, 8]", ""), eight), "tensor 'w'",
                "data_offsets");
        assertMessage(file("dup.safetensors", "{\"w\": {}, \"w\": {}}", eight), "not valid JSON", "w");
        Path missing = dir.resolve("missing.safetensors");
        assertMessage(missing, "no such file");
    }

    private static void assertMessage(Path path, String... parts) {
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> Safetensors.read(path));
        String m = e.getMessage();
        assertTrue(m.contains(path.getFileName().toString()), m);
        for (String part : parts) {
            assertTrue(m.contains(part), "'" + part + "' missing from: " + m);
        }
    }
}
