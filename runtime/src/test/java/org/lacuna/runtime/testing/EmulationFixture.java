package org.lacuna.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One case for the kernel emulator ({@code kernels/src/test/emulator/fixture.h}): a directory holding {@code
 * meta.txt} (key=value lines) and one little-endian binary file per array ({@code NAME.bin}).
 */
public final class EmulationFixture {
    private final Path dir;
    private final Map<String, String> meta = new LinkedHashMap<>();

    public EmulationFixture(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds a meta line; doubles are written with {@link Double#toString}, which reads back to the same value. */
    public EmulationFixture meta(String key, Object value) {
        meta.put(key, String.valueOf(value));
        return this;
    }

    public EmulationFixture array(String name, short[] values) {
        ByteBuffer buffer = buffer(values.length * 2L);
        buffer.asShortBuffer().put(values);
        return write(name, buffer);
    }

    public EmulationFixture array(String name, int[] values) {
        ByteBuffer buffer = buffer(values.length * 4L);
        buffer.asIntBuffer().put(values);
        return write(name, buffer);
    }

    public EmulationFixture array(String name, long[] values) {
        ByteBuffer buffer = buffer(values.length * 8L);
        buffer.asLongBuffer().put(values);
        return write(name, buffer);
    }

    public EmulationFixture array(String name, float[] values) {
        ByteBuffer buffer = buffer(values.length * 4L);
        buffer.asFloatBuffer().put(values);
        return write(name, buffer);
    }

    public EmulationFixture array(String name, double[] values) {
        ByteBuffer buffer = buffer(values.length * 8L);
        buffer.asDoubleBuffer().put(values);
        return write(name, buffer);
    }

    /** Writes meta.txt; the arrays are already on disk. */
    public void finish() {
        String text = meta.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() + "\n")
                .collect(Collectors.joining());
        try {
            Files.writeString(dir.resolve("meta.txt"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ByteBuffer buffer(long bytes) {
        return ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private EmulationFixture write(String name, ByteBuffer buffer) {
        try {
            Files.write(dir.resolve(name + ".bin"), buffer.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }
}
