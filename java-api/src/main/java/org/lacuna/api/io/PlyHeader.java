package org.lacuna.api.io;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lacuna.runtime.error.MalformedInputException;

/**
 * The header of a PLY file: its format and its elements with their properties, in file order, up to
 * {@code end_header}; the body starts at {@link #bodyOffset()}.
 */
record PlyHeader(Format format, List<Element> elements, int bodyOffset) {
    public enum Format { ASCII, BINARY_LITTLE_ENDIAN, BINARY_BIG_ENDIAN }

    /** An element (vertex, face, ...) declared {@code count} times. */
    public record Element(String name, long count, List<Property> properties) {
        public Element {
            properties = List.copyOf(properties);
        }

        public int indexOf(String propertyName) {
            for (int i = 0; i < properties.size(); i++) {
                if (properties.get(i).name().equals(propertyName)) {
                    return i;
                }
            }
            return -1;
        }

        /** Bytes of one instance in a binary body, or -1 if a list property makes it vary. */
        public long fixedByteSize() {
            long size = 0;
            for (Property property : properties) {
                if (property.isList()) {
                    return -1;
                }
                size += property.type().byteSize();
            }
            return size;
        }
    }

    /** A scalar property, or a list ({@code countType} non-null) of {@code type} items. */
    public record Property(String name, ScalarType type, ScalarType countType) {
        public boolean isList() {
            return countType != null;
        }
    }

    private static final Map<String, ScalarType> TYPES = Map.ofEntries(
            Map.entry("char", ScalarType.INT8), Map.entry("int8", ScalarType.INT8),
            Map.entry("uchar", ScalarType.UINT8), Map.entry("uint8", ScalarType.UINT8),
            Map.entry("short", ScalarType.INT16), Map.entry("int16", ScalarType.INT16),
            Map.entry("ushort", ScalarType.UINT16), Map.entry("uint16", ScalarType.UINT16),
            Map.entry("int", ScalarType.INT32), Map.entry("int32", ScalarType.INT32),
            Map.entry("uint", ScalarType.UINT32), Map.entry("uint32", ScalarType.UINT32),
            Map.entry("float", ScalarType.FLOAT32), Map.entry("float32", ScalarType.FLOAT32),
            Map.entry("double", ScalarType.FLOAT64), Map.entry("float64", ScalarType.FLOAT64));

    public PlyHeader {
        elements = List.copyOf(elements);
    }

    public Element element(String name) {
        return elements.stream().filter(e -> e.name().equals(name)).findFirst().orElse(null);
    }

    static PlyHeader parse(String source, byte[] bytes) {
        TextLines lines = new TextLines(bytes, 0);
        if (!lines.nextLine() || !lines.line().equals("ply")) {
            throw new MalformedInputException(source, "is not a PLY file: it starts with '"
                    + PcdHeader.printable(lines.line()) + "' instead of 'ply'");
        }
        Format format = null;
        List<Element> elements = new ArrayList<>();
        String elementName = null;
        long elementCount = 0;
        List<Property> properties = new ArrayList<>();
        Set<String> propertyNames = new HashSet<>();
        while (true) {
            if (!lines.nextLine()) {
                throw new MalformedInputException(source, "the PLY header has no end_header line (truncated header?)");
            }
            if (lines.tokenCount() == 0) {
                continue;
            }
            String keyword = lines.token(0);
            int line = lines.lineNumber();
            switch (keyword) {
                case "comment", "obj_info" -> {
                }
                case "format" -> {
                    if (lines.tokenCount() != 3 || !lines.token(2).startsWith("1")) {
                        throw error(source, line, "'" + PcdHeader.printable(lines.line())
                                + "' is not 'format <kind> 1.0'");
                    }
                    format = switch (lines.token(1)) {
                        case "ascii" -> Format.ASCII;
                        case "binary_little_endian" -> Format.BINARY_LITTLE_ENDIAN;
                        case "binary_big_endian" -> Format.BINARY_BIG_ENDIAN;
                        default -> throw error(source, line, "unknown format '" + PcdHeader.printable(lines.token(1))
                                + "' (ascii, binary_little_endian or binary_big_endian)");
                    };
                }
                case "element" -> {
                    if (elementName != null) {
                        elements.add(new Element(elementName, elementCount, properties));
                    }
                    if (lines.tokenCount() != 3) {
                        throw error(source, line, "'" + PcdHeader.printable(lines.line())
                                + "' is not 'element <name> <count>'");
                    }
                    elementName = lines.token(1);
                    elementCount = count(source, line, lines.token(2));
                    if (elements.stream().anyMatch(e -> e.name().equals(lines.token(1)))) {
                        throw error(source, line, "element '" + elementName + "' is declared twice");
                    }
                    properties = new ArrayList<>();
                    propertyNames.clear();
                }
                case "property" -> {
                    if (elementName == null) {
                        throw error(source, line, "a property comes before any element");
                    }
                    Property property = property(source, line, lines);
                    if (!propertyNames.add(property.name())) {
                        throw error(source, line, "element '" + elementName + "' has property '" + property.name()
                                + "' twice");
                    }
                    properties.add(property);
                }
                case "end_header" -> {
                    if (elementName != null) {
                        elements.add(new Element(elementName, elementCount, properties));
                    }
                    if (format == null) {
                        throw error(source, line, "the header has no format line");
                    }
                    return new PlyHeader(format, elements, lines.position());
                }
                default -> throw error(source, line, "'" + PcdHeader.printable(lines.line())
                        + "' is not a PLY header line");
            }
        }
    }

    private static Property property(String source, int line, TextLines lines) {
        if (lines.tokenCount() == 5 && lines.token(1).equals("list")) {
            ScalarType countType = type(source, line, lines.token(2));
            if (!countType.isInteger()) {
                throw error(source, line, "list length type '" + lines.token(2) + "' is not an integer type");
            }
            return new Property(lines.token(4), type(source, line, lines.token(3)), countType);
        }
        if (lines.tokenCount() == 3 && !lines.token(1).equals("list")) {
            return new Property(lines.token(2), type(source, line, lines.token(1)), null);
        }
        throw error(source, line, "'" + PcdHeader.printable(lines.line()) + "' is not 'property <type> <name>' or"
                + " 'property list <count type> <item type> <name>'");
    }

    private static ScalarType type(String source, int line, String name) {
        ScalarType type = TYPES.get(name);
        if (type == null) {
            throw error(source, line, "unknown property type '" + PcdHeader.printable(name) + "'");
        }
        return type;
    }

    private static long count(String source, int line, String token) {
        try {
            long count = Long.parseLong(token);
            if (count >= 0) {
                return count;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw error(source, line, "element count '" + PcdHeader.printable(token) + "' is not a whole number >= 0");
    }

    private static MalformedInputException error(String source, int line, String message) {
        return new MalformedInputException(source, "PLY header line " + line + ": " + message);
    }
}
