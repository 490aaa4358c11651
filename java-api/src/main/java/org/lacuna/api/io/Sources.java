package org.lacuna.api.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import org.lacuna.runtime.error.MalformedInputException;

/** Reading whole files, with errors that name the file. */
final class Sources {
    /** Java arrays stop a little short of Integer.MAX_VALUE. */
    static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private Sources() {
    }

    static byte[] readAll(Path path) {
        try {
            long size = Files.size(path);
            if (size > MAX_BYTES) {
                throw new MalformedInputException(path.toString(), "is " + size + " bytes; the readers take files of"
                        + " at most " + MAX_BYTES + " bytes");
            }
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw unreadable(path.toString(), e);
        }
    }

    static MalformedInputException unreadable(String source, IOException e) {
        if (e instanceof NoSuchFileException) {
            return new MalformedInputException(source, "no such file", e);
        }
        return new MalformedInputException(source, "cannot be read: " + e, e);
    }

    /** How a number of bytes or values reads in messages: 1,929,760. */
    static String count(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }
}
