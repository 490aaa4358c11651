package org.lacuna.api.io;

import com.ning.compress.lzf.LZFException;
import com.ning.compress.lzf.impl.VanillaChunkDecoder;
import java.util.Arrays;
import org.lacuna.runtime.error.MalformedInputException;

/**
 * LZF decompression of a raw stream (no chunk headers), as PCD's binary_compressed bodies hold, through
 * compress-lzf's bounds-checked decoder. Its Unsafe-based sibling is never used: on a corrupt stream it could read
 * and write outside the arrays instead of failing.
 */
final class Lzf {
    /** The most one LZF instruction expands: a 3-byte back reference yields 264 bytes. */
    private static final int MAX_EXPANSION = 88;

    private Lzf() {
    }

    static byte[] decompress(String source, byte[] bytes, int offset, int length, int decompressedLength) {
        if (decompressedLength == 0) {
            return new byte[0];
        }
        if (length == 0 || (long) decompressedLength > (long) length * MAX_EXPANSION) {
            throw new MalformedInputException(source, "an LZF stream of " + Sources.count(length)
                    + " bytes cannot expand to the " + Sources.count(decompressedLength) + " bytes the file declares");
        }
        // A copy of exactly the stream: a decoder that runs past its end must fail, not read the bytes after it.
        byte[] compressed = Arrays.copyOfRange(bytes, offset, offset + length);
        byte[] out = new byte[decompressedLength];
        try {
            new VanillaChunkDecoder().decodeChunk(compressed, 0, out, 0, decompressedLength);
        } catch (LZFException | ArrayIndexOutOfBoundsException e) {
            throw new MalformedInputException(source, "the LZF-compressed data is corrupt or truncated: it does not"
                    + " decode to the " + Sources.count(decompressedLength) + " bytes the file declares", e);
        }
        return out;
    }
}
