package org.lacuna.api.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small subset of Python literals an NPY header uses: dicts, tuples, lists, strings, integers, True, False,
 * None. Strings become {@link String}, integers {@link Long}, booleans {@link Boolean}, tuples and lists
 * {@link List}, dicts {@link Map}, None null. Every step consumes input, so malformed text ends in an error, never
 * a loop.
 */
final class PythonLiteral {
    private final String text;
    private int at;

    private PythonLiteral(String text) {
        this.text = text;
    }

    /** @throws IllegalArgumentException describing what is wrong and where */
    static Object parse(String text) {
        PythonLiteral parser = new PythonLiteral(text);
        Object value = parser.value(0);
        parser.skipSpace();
        if (parser.at != text.length()) {
            throw parser.error("unexpected text after the literal");
        }
        return value;
    }

    private Object value(int depth) {
        if (depth > 16) {
            throw error("nested too deeply");
        }
        skipSpace();
        if (at >= text.length()) {
            throw error("the text ends where a value should start");
        }
        char c = text.charAt(at);
        return switch (c) {
            case '{' -> dict(depth);
            case '(' -> sequence(')', depth);
            case '[' -> sequence(']', depth);
            case '\'', '"' -> string();
            default -> {
                if (c == '-' || c == '+' || Character.isDigit(c)) {
                    yield integer();
                }
                yield word();
            }
        };
    }

    private Map<String, Object> dict(int depth) {
        at++;
        Map<String, Object> map = new LinkedHashMap<>();
        while (true) {
            skipSpace();
            if (peek('}')) {
                at++;
                return map;
            }
            Object key = value(depth + 1);
            if (!(key instanceof String name)) {
                throw error("a dict key is not a string");
            }
            skipSpace();
            expect(':');
            if (map.put(name, value(depth + 1)) != null) {
                throw error("key '" + name + "' appears twice");
            }
            skipSpace();
            if (peek(',')) {
                at++;
            } else if (!peek('}')) {
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> sequence(char close, int depth) {
        at++;
        List<Object> items = new ArrayList<>();
        while (true) {
            skipSpace();
            if (peek(close)) {
                at++;
                return items;
            }
            items.add(value(depth + 1));
            skipSpace();
            if (peek(',')) {
                at++;
            } else if (!peek(close)) {
                throw error("expected ',' or '" + close + "'");
            }
        }
    }

    private String string() {
        char quote = text.charAt(at++);
        int start = at;
        while (at < text.length() && text.charAt(at) != quote) {
            if (text.charAt(at) == '\\') {
                throw error("escapes in strings are not supported");
            }
            at++;
        }
        if (at >= text.length()) {
            throw error("a string is not closed");
        }
        return text.substring(start, at++);
    }

    private Long integer() {
        int start = at;
        if (text.charAt(at) == '-' || text.charAt(at) == '+') {
            at++;
        }
        while (at < text.length() && Character.isDigit(text.charAt(at))) {
            at++;
        }
        if (at < text.length() && text.charAt(at) == 'L') {
            at++; // Python 2 long literals, as old numpy wrote shapes
        }
        try {
            String digits = text.substring(start, at).replace("L", "");
            return Long.parseLong(digits.startsWith("+") ? digits.substring(1) : digits);
        } catch (NumberFormatException e) {
            throw error("'" + text.substring(start, at) + "' is not an integer");
        }
    }

    private Object word() {
        int start = at;
        while (at < text.length() && Character.isLetter(text.charAt(at))) {
            at++;
        }
        return switch (text.substring(start, at)) {
            case "True" -> Boolean.TRUE;
            case "False" -> Boolean.FALSE;
            case "None" -> null;
            default -> {
                at = start;
                throw error("unexpected '" + PcdHeader.printable(text.substring(start, Math.min(text.length(),
                        start + 12))) + "'");
            }
        };
    }

    private void skipSpace() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private boolean peek(char c) {
        return at < text.length() && text.charAt(at) == c;
    }

    private void expect(char c) {
        if (!peek(c)) {
            throw error("expected '" + c + "'");
        }
        at++;
    }

    private IllegalArgumentException error(String message) {
        return new IllegalArgumentException(message + " at character " + at);
    }
}
