package org.lacuna.api.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.ning.compress.lzf.LZFChunk;
import com.ning.compress.lzf.util.ChunkEncoderFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.function.Executable;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/** Writing small files of every format in tests, and the checks every reader must pass. */
final class TestFiles {
    private TestFiles() {
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** Binary values in one byte order. */
    static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteOrder order;

        Bytes(ByteOrder order) {
            this.order = order;
        }

        static Bytes le() {
            return new Bytes(ByteOrder.LITTLE_ENDIAN);
        }

        static Bytes be() {
            return new Bytes(ByteOrder.BIG_ENDIAN);
        }

        private ByteBuffer buffer(int size) {
            return ByteBuffer.allocate(size).order(order);
        }

        Bytes i8(int v) {
            out.write(v);
            return this;
        }

        Bytes i16(int v) {
            out.writeBytes(buffer(2).putShort((short) v).array());
            return this;
        }

        Bytes i32(int v) {
            out.writeBytes(buffer(4).putInt(v).array());
            return this;
        }

        Bytes i64(long v) {
            out.writeBytes(buffer(8).putLong(v).array());
            return this;
        }

        Bytes f32(float v) {
            out.writeBytes(buffer(4).putFloat(v).array());
            return this;
        }

        Bytes f64(double v) {
            out.writeBytes(buffer(8).putDouble(v).array());
            return this;
        }

        /** A value of {@code type}, as the readers decode it. */
        Bytes scalar(ScalarType type, double v) {
            return switch (type) {
                case INT8, UINT8 -> i8((int) v);
                case INT16, UINT16 -> i16((int) v);
                case INT32, UINT32 -> i32((int) (long) v);
                case INT64, UINT64 -> i64((long) v);
                case FLOAT32 -> f32((float) v);
                case FLOAT64 -> f64(v);
            };
        }

        Bytes raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** A raw LZF stream (no chunk header) made by compress-lzf's encoder, as PCL's binary_compressed holds. */
    static byte[] lzf(byte[] data) {
        if (data.length > LZFChunk.MAX_CHUNK_LEN) {
            throw new IllegalArgumentException("one LZF chunk holds at most 64 KiB");
        }
        byte[] framed = ChunkEncoderFactory.safeInstance(data.length).encodeChunk(data, 0, data.length).getData();
        if (framed[2] != LZFChunk.BLOCK_TYPE_COMPRESSED) {
            throw new IllegalArgumentException("test data does not compress; make it repetitive");
        }
        return Arrays.copyOfRange(framed, LZFChunk.HEADER_LEN_COMPRESSED, framed.length);
    }

    /** Asserts the call fails with MALFORMED_INPUT naming {@code file} and saying each of {@code fragments}. */
    static MalformedInputException assertMalformed(Path file, Executable read, String... fragments) {
        MalformedInputException e = assertThrows(MalformedInputException.class, read);
        assertEquals(ErrorCode.MALFORMED_INPUT, e.code());
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "says '" + fragment + "': " + e.getMessage());
        }
        return e;
    }

    static void assertSameCloud(PointCloud expected, PointCloud actual) {
        assertEquals(expected.size(), actual.size(), "points");
        assertArrayEquals(expected.xs(), actual.xs(), "x");
        assertArrayEquals(expected.ys(), actual.ys(), "y");
        assertArrayEquals(expected.zs(), actual.zs(), "z");
        assertEquals(expected.channelNames(), actual.channelNames(), "channels");
        for (int c = 0; c < expected.channelCount(); c++) {
            assertArrayEquals(expected.channel(c), actual.channel(c), expected.channelNames().get(c));
        }
    }

    /**
     * Reads every proper prefix of a valid file: each must fail with a MalformedInputException naming the file, or
     * (text formats cut in trailing whitespace) read the same cloud as the whole file. Nothing else, and no hang.
     */
    static void assertEveryTruncationFailsCleanly(Path dir, String name, byte[] valid, Function<Path, PointCloud> reader) {
        PointCloud whole = reader.apply(write(dir, name, valid));
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int length = 0; length < valid.length; length++) {
                Path file = write(dir, name, Arrays.copyOf(valid, length));
                assertReadsOrFailsCleanly(file, reader, whole, "prefix of " + length + " bytes");
            }
        });
    }

    /** Flips random bytes of a valid file: reading must succeed or fail with a MalformedInputException, never hang. */
    static void assertCorruptionFailsCleanly(Path dir, String name, byte[] valid, Function<Path, PointCloud> reader,
                                             long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int trial = 0; trial < 400; trial++) {
                byte[] corrupt = valid.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
                }
                Path file = write(dir, name, corrupt);
                assertReadsOrFailsCleanly(file, reader, null, "trial " + trial + " (seed " + seed + ")");
            }
        });
    }

    private static void assertReadsOrFailsCleanly(Path file, Function<Path, PointCloud> reader, PointCloud expected,
                                                  String what) {
        PointCloud read;
        try {
            read = reader.apply(file);
        } catch (MalformedInputException e) {
            assertTrue(e.getMessage().contains(file.toString()), what + ": names the file: " + e.getMessage());
            return;
        } catch (RuntimeException e) {
            fail(what + ": " + e, e);
            return;
        }
        if (expected != null) {
            assertSameCloud(expected, read);
        }
    }
}
