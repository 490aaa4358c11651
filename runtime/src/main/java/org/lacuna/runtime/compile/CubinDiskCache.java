package org.lacuna.runtime.compile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.lacuna.runtime.internal.AtomicFiles;

/**
 * Cubins on disk, one file per cache key, each with a header holding the payload's SHA-256: a truncated or
 * corrupted file is detected, deleted and recompiled, never loaded. The NVRTC log sits beside it as {@code .log}.
 * Writes go to a temporary file and are moved into place, so concurrent JVMs never see half a file.
 */
public final class CubinDiskCache {
    private static final System.Logger LOG = System.getLogger(CubinDiskCache.class.getName());
    private static final byte[] MAGIC = "LACUNA-CUBIN-1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = MAGIC.length + 32 + 8;

    private final Path folder;

    public CubinDiskCache(Path folder) {
        this.folder = folder;
    }

    public Path folder() {
        return folder;
    }

    /** The cached cubin and log for a key, or empty if absent or corrupted (a corrupted entry is removed). */
    public Optional<Entry> read(String key) {
        Path file = cubinFile(key);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            byte[] bytes = Files.readAllBytes(file);
            Optional<byte[]> payload = verify(bytes);
            if (payload.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "cubin cache entry {0} is corrupted; recompiling", file);
                delete(key);
                return Optional.empty();
            }
            Path log = logFile(key);
            String text = Files.isRegularFile(log) ? Files.readString(log) : "";
            return Optional.of(new Entry(payload.get(), text));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read cubin cache entry " + file + "; recompiling", e);
            return Optional.empty();
        }
    }

    /** Stores a cubin and its log; a failure to write is logged, never thrown (the cache is an optimisation). */
    public void write(String key, byte[] cubin, String log) {
        try {
            Files.createDirectories(folder);
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            header.put(MAGIC).put(sha256(cubin)).putLong(cubin.length);
            byte[] bytes = new byte[HEADER + cubin.length];
            System.arraycopy(header.array(), 0, bytes, 0, HEADER);
            System.arraycopy(cubin, 0, bytes, HEADER, cubin.length);
            byte[] logBytes = log.getBytes(StandardCharsets.UTF_8);
            AtomicFiles.replace(logFile(key), temporary -> Files.write(temporary, logBytes));
            AtomicFiles.replace(cubinFile(key), temporary -> Files.write(temporary, bytes));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write cubin cache entry in " + folder, e);
        }
    }

    public List<Path> entries() {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".cubin")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    Path cubinFile(String key) {
        return folder.resolve(key + ".cubin");
    }

    Path logFile(String key) {
        return folder.resolve(key + ".log");
    }

    private void delete(String key) {
        try {
            Files.deleteIfExists(cubinFile(key));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete corrupted cache entry " + key, e);
        }
    }

    private static Optional<byte[]> verify(byte[] bytes) {
        if (bytes.length < HEADER || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return Optional.empty();
        }
        ByteBuffer header = ByteBuffer.wrap(bytes, MAGIC.length, 40);
        byte[] digest = new byte[32];
        header.get(digest);
        long length = header.getLong();
        if (length != bytes.length - HEADER) {
            return Optional.empty();
        }
        byte[] payload = Arrays.copyOfRange(bytes, HEADER, bytes.length);
        return MessageDigest.isEqual(digest, sha256(payload)) ? Optional.of(payload) : Optional.empty();
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    public record Entry(byte[] cubin, String log) {
    }
}
