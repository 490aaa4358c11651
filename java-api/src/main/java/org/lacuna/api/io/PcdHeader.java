package org.lacuna.api.io;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.lacuna.runtime.error.MalformedInputException;

/**
 * The header of a PCD file (Point Cloud Library format, v0.5 to v0.7): lines of {@code KEYWORD values} up to and
 * including the {@code DATA} line, after which the body starts at {@link #bodyOffset()}.
 *
 * @param viewpoint translation (tx, ty, tz) then rotation quaternion (qw, qx, qy, qz); not applied to the points
 */
record PcdHeader(String version, List<PcdField> fields, long width, long height, List<Double> viewpoint,
                        long points, Encoding encoding, int bodyOffset) {
    /** How the body stores the points. */
    public enum Encoding {
        /** One point per text line. */
        ASCII,
        /** Little-endian records of all fields, point after point. */
        BINARY,
        /** Two uint32 (compressed size, uncompressed size), then LZF-compressed column-major data. */
        BINARY_COMPRESSED
    }

    private static final Set<String> KEYWORDS = Set.of("VERSION", "FIELDS", "COLUMNS", "SIZE", "TYPE", "COUNT",
            "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA");

    public PcdHeader {
        fields = List.copyOf(fields);
        viewpoint = List.copyOf(viewpoint);
    }

    /** Bytes one point takes in a binary body. */
    public long pointByteSize() {
        long size = 0;
        for (PcdField field : fields) {
            size += field.byteSize();
        }
        return size;
    }

    static PcdHeader parse(String source, byte[] bytes) {
        TextLines lines = new TextLines(bytes, 0);
        Map<String, List<String>> entries = new LinkedHashMap<>();
        Map<String, Integer> lineOf = new LinkedHashMap<>();
        while (!entries.containsKey("DATA")) {
            if (!lines.nextNonBlank()) {
                throw new MalformedInputException(source, entries.isEmpty()
                        ? "is not a PCD file: it holds no header lines"
                        : "the PCD header has no DATA line (truncated header?)");
            }
            String keyword = lines.token(0);
            if (keyword.startsWith("#")) {
                continue;
            }
            if (!KEYWORDS.contains(keyword)) {
                throw new MalformedInputException(source, "line " + lines.lineNumber() + ": '" + printable(lines.line())
                        + "' is not a PCD header line" + (entries.isEmpty() ? " (not a PCD file?)" : ""));
            }
            String key = keyword.equals("COLUMNS") ? "FIELDS" : keyword;
            if (entries.put(key, lines.tokens().subList(1, lines.tokenCount())) != null) {
                throw new MalformedInputException(source, "line " + lines.lineNumber() + ": " + key
                        + " appears twice in the header");
            }
            lineOf.put(key, lines.lineNumber());
        }
        return new Parser(source, entries, lineOf).header(lines.position());
    }

    private record Parser(String source, Map<String, List<String>> entries, Map<String, Integer> lineOf) {
        PcdHeader header(int bodyOffset) {
            List<String> names = required("FIELDS");
            List<String> sizes = required("SIZE");
            List<String> types = required("TYPE");
            List<String> counts = entries.get("COUNT");
            requireSameLength("SIZE", sizes, names);
            requireSameLength("TYPE", types, names);
            if (counts != null) {
                requireSameLength("COUNT", counts, names);
            }
            List<PcdField> fields = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (int f = 0; f < names.size(); f++) {
                String name = names.get(f);
                if (!name.equals("_") && !seen.add(name)) {
                    throw error("FIELDS", "field '" + name + "' appears twice");
                }
                int size = (int) whole("SIZE", sizes.get(f), 1, 8);
                String type = types.get(f);
                int count = counts == null ? 1 : (int) whole("COUNT", counts.get(f), 1, Integer.MAX_VALUE);
                PcdField field = new PcdField(name, size, type.length() == 1 ? type.charAt(0) : '?', count);
                if (field.scalarType() == null) {
                    throw error("TYPE", "field '" + name + "' has TYPE " + type + " and SIZE " + size
                            + ", which is no PCD type (I and U take sizes 1, 2, 4, 8; F takes 4, 8)");
                }
                fields.add(field);
            }
            long points = entries.containsKey("POINTS") ? single("POINTS", 0, Sources.MAX_BYTES) : -1;
            long width = entries.containsKey("WIDTH") ? single("WIDTH", 0, Sources.MAX_BYTES) : points;
            long height = entries.containsKey("HEIGHT") ? single("HEIGHT", 0, Sources.MAX_BYTES) : 1;
            if (width < 0) {
                throw new MalformedInputException(source, "the PCD header has neither WIDTH nor POINTS");
            }
            if (points < 0) {
                points = width * height;
            } else if (points != width * height) {
                throw error("POINTS", "POINTS " + points + " is not WIDTH × HEIGHT = " + width + " × " + height);
            }
            if (points > Sources.MAX_BYTES) {
                throw error("POINTS", points + " points are more than a Java array holds");
            }
            List<Double> viewpoint = List.of(0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0);
            if (entries.containsKey("VIEWPOINT")) {
                List<String> values = entries.get("VIEWPOINT");
                if (values.size() != 7) {
                    throw error("VIEWPOINT", "VIEWPOINT needs 7 numbers (tx ty tz qw qx qy qz), not " + values.size());
                }
                List<Double> parsed = new ArrayList<>();
                for (String value : values) {
                    try {
                        parsed.add(ScalarType.FLOAT64.parse(value));
                    } catch (NumberFormatException e) {
                        throw error("VIEWPOINT", "VIEWPOINT value '" + value + "' is not a number");
                    }
                }
                viewpoint = parsed;
            }
            List<String> data = entries.get("DATA");
            String encodingName = data.size() == 1 ? data.getFirst() : String.join(" ", data);
            Encoding encoding = switch (encodingName.toLowerCase(Locale.ROOT)) {
                case "ascii" -> Encoding.ASCII;
                case "binary" -> Encoding.BINARY;
                case "binary_compressed" -> Encoding.BINARY_COMPRESSED;
                default -> throw error("DATA", "DATA '" + encodingName + "' is not ascii, binary or binary_compressed");
            };
            String version = entries.containsKey("VERSION") ? String.join(" ", entries.get("VERSION")) : "";
            return new PcdHeader(version, fields, width, height, viewpoint, points, encoding, bodyOffset);
        }

        private List<String> required(String keyword) {
            List<String> values = entries.get(keyword);
            if (values == null || values.isEmpty()) {
                throw new MalformedInputException(source, "the PCD header has no " + keyword + " line"
                        + (values == null ? "" : " values"));
            }
            return values;
        }

        private void requireSameLength(String keyword, List<String> values, List<String> names) {
            if (values.size() != names.size()) {
                throw error(keyword, keyword + " has " + values.size() + " entries but FIELDS names " + names.size()
                        + " fields");
            }
        }

        private long single(String keyword, long min, long max) {
            List<String> values = entries.get(keyword);
            if (values.size() != 1) {
                throw error(keyword, keyword + " needs one value, not " + values.size());
            }
            return whole(keyword, values.getFirst(), min, max);
        }

        private long whole(String keyword, String token, long min, long max) {
            long value;
            try {
                value = Long.parseLong(token);
            } catch (NumberFormatException e) {
                throw error(keyword, keyword + " value '" + token + "' is not a whole number");
            }
            if (value < min || value > max) {
                throw error(keyword, keyword + " value " + value + " is outside [" + min + ", " + max + "]");
            }
            return value;
        }

        private MalformedInputException error(String keyword, String message) {
            return new MalformedInputException(source, "line " + lineOf.get(keyword) + ": " + message);
        }
    }

    /** A header line as it can be shown in a message: short, control bytes escaped. */
    static String printable(String line) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < line.length() && out.length() < 60; i++) {
            char c = line.charAt(i);
            out.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format(Locale.ROOT, "\\x%02x", (int) c));
        }
        return line.length() > 60 ? out + "..." : out.toString();
    }
}
