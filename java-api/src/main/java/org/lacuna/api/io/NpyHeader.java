package org.lacuna.api.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.lacuna.runtime.error.MalformedInputException;

/**
 * The header of an NPY array: magic {@code \x93NUMPY}, version (1.0, 2.0 or 3.0), then a Python dict literal with
 * {@code descr}, {@code fortran_order} and {@code shape}. Versions differ only in the header length's width (2 or 4
 * bytes) and the header's encoding (latin-1, UTF-8 from 3.0).
 */
record NpyHeader(int majorVersion, ScalarType type, ByteOrder order, boolean fortranOrder, long[] shape) {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy's own readers refuse headers past this size too; it stops a lying length from allocating. */
    private static final int MAX_HEADER_BYTES = 1 << 20;
    private static final Set<String> KEYS = Set.of("descr", "fortran_order", "shape");

    static NpyHeader read(String source, InputStream in) throws IOException {
        byte[] preamble = in.readNBytes(8);
        for (int i = 0; i < Math.min(preamble.length, MAGIC.length); i++) {
            if (preamble[i] != MAGIC[i]) {
                throw new MalformedInputException(source, "is not an NPY array: it does not start with \\x93NUMPY");
            }
        }
        if (preamble.length < 8) {
            throw new MalformedInputException(source, "truncated: the NPY preamble takes 8 bytes, the data has "
                    + preamble.length);
        }
        int major = preamble[6] & 0xFF;
        int minor = preamble[7] & 0xFF;
        if (major < 1 || major > 3) {
            throw new MalformedInputException(source, "NPY format version " + major + "." + minor
                    + " is not supported (1.0, 2.0 and 3.0 are)");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] lengthField = in.readNBytes(lengthBytes);
        if (lengthField.length < lengthBytes) {
            throw new MalformedInputException(source, "truncated in the NPY header length");
        }
        long headerLength = 0;
        for (int i = lengthBytes - 1; i >= 0; i--) {
            headerLength = headerLength << 8 | (lengthField[i] & 0xFF);
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new MalformedInputException(source, "declares an NPY header of " + Sources.count(headerLength)
                    + " bytes; headers are at most " + Sources.count(MAX_HEADER_BYTES));
        }
        byte[] headerBytes = in.readNBytes((int) headerLength);
        if (headerBytes.length < headerLength) {
            throw new MalformedInputException(source, "truncated: the NPY header declares " + headerLength
                    + " bytes, the data has " + headerBytes.length);
        }
        String text = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        return parseDict(source, major, text);
    }

    private static NpyHeader parseDict(String source, int major, String text) {
        Object literal;
        try {
            literal = PythonLiteral.parse(text);
        } catch (IllegalArgumentException e) {
            throw new MalformedInputException(source, "the NPY header is not a Python dict literal: " + e.getMessage());
        }
        if (!(literal instanceof Map<?, ?> dict)) {
            throw new MalformedInputException(source, "the NPY header is not a dict");
        }
        if (!dict.keySet().equals(KEYS)) {
            throw new MalformedInputException(source, "the NPY header has keys " + new TreeSet<>(dict.keySet())
                    + "; it needs exactly " + new TreeSet<>(KEYS));
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw new MalformedInputException(source, "NPY descr " + dict.get("descr") + " is a structured dtype;"
                    + " only plain numeric arrays are supported");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new MalformedInputException(source, "NPY fortran_order is " + dict.get("fortran_order")
                    + ", not True or False");
        }
        if (!(dict.get("shape") instanceof List<?> dims)) {
            throw new MalformedInputException(source, "NPY shape " + dict.get("shape") + " is not a tuple");
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0) {
                throw new MalformedInputException(source, "NPY shape " + dims + " holds " + dims.get(i)
                        + ", not a size");
            }
            shape[i] = d;
        }
        ScalarType type = scalarType(source, descr);
        ByteOrder order = switch (descr.charAt(0)) {
            case '<' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            default -> ByteOrder.nativeOrder();
        };
        return new NpyHeader(major, type, order, fortran, shape);
    }

    private static ScalarType scalarType(String source, String descr) {
        ScalarType type = descr.length() != 3 || "<>=|".indexOf(descr.charAt(0)) < 0 ? null
                : switch (descr.substring(1)) {
                    case "f4" -> ScalarType.FLOAT32;
                    case "f8" -> ScalarType.FLOAT64;
                    case "i4" -> ScalarType.INT32;
                    case "i8" -> ScalarType.INT64;
                    default -> null;
                };
        if (type == null) {
            throw new MalformedInputException(source, "NPY dtype '" + PcdHeader.printable(descr) + "' is not"
                    + " supported (f4, f8, i4 and i8, little- or big-endian, are)");
        }
        return type;
    }

    /** Elements the shape holds; fails if their bytes would not fit a Java array. */
    int elementCount(String source) {
        long count = 1;
        for (long d : shape) {
            if (d != 0 && count > Sources.MAX_BYTES / d) {
                throw new MalformedInputException(source, "NPY shape " + describeShape() + " is too large to read");
            }
            count *= d;
        }
        if (count * type.byteSize() > Sources.MAX_BYTES) {
            throw new MalformedInputException(source, "NPY shape " + describeShape() + " is too large to read");
        }
        return (int) count;
    }

    String describeShape() {
        List<String> dims = new ArrayList<>();
        for (long d : shape) {
            dims.add(Long.toString(d));
        }
        return "(" + String.join(", ", dims) + (shape.length == 1 ? ",)" : ")");
    }
}
