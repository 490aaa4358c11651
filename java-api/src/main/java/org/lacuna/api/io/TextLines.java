package org.lacuna.api.io;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Whitespace-separated tokens, a line at a time, over part of a byte array (headers, ASCII bodies). Tracks the line
 * number for messages and the byte offset after the current line, where a binary body starts.
 */
final class TextLines {
    private final byte[] bytes;
    private final int end;
    private final List<String> tokens = new ArrayList<>();
    private int position;
    private int lineNumber;
    private String line = "";

    TextLines(byte[] bytes, int start) {
        this.bytes = bytes;
        this.end = bytes.length;
        this.position = start;
    }

    /** Moves to the next line that holds a token; false when the input ends first. */
    boolean nextNonBlank() {
        while (nextLine()) {
            if (!tokens.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Moves to the next line, blank or not; false at the end of the input. */
    boolean nextLine() {
        if (position >= end) {
            return false;
        }
        int start = position;
        int stop = start;
        while (stop < end && bytes[stop] != '\n') {
            stop++;
        }
        position = stop < end ? stop + 1 : end;
        lineNumber++;
        int contentEnd = stop > start && bytes[stop - 1] == '\r' ? stop - 1 : stop;
        line = new String(bytes, start, contentEnd - start, StandardCharsets.ISO_8859_1);
        split();
        return true;
    }

    /** 1-based number of the current line, counted from where this reader started. */
    int lineNumber() {
        return lineNumber;
    }

    String line() {
        return line;
    }

    int tokenCount() {
        return tokens.size();
    }

    String token(int index) {
        return tokens.get(index);
    }

    List<String> tokens() {
        return List.copyOf(tokens);
    }

    /** Byte offset just after the current line's end. */
    int position() {
        return position;
    }

    int remainingBytes() {
        return end - position;
    }

    private void split() {
        tokens.clear();
        int i = 0;
        int n = line.length();
        while (i < n) {
            while (i < n && isSpace(line.charAt(i))) {
                i++;
            }
            int from = i;
            while (i < n && !isSpace(line.charAt(i))) {
                i++;
            }
            if (i > from) {
                tokens.add(line.substring(from, i));
            }
        }
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == 0x0B;
    }
}
