package org.lacuna.api.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * PCD files (Point Cloud Library) in all three encodings: ascii, binary and binary_compressed. Fields x, y and z
 * are required; the others become channels (see {@link PcdLayout} for padding, colours and multi-element fields).
 * NaN points of organised clouds are kept; {@link PointCloud#finitePoints()} drops them. A body shorter than the
 * header declares is an error; bytes after it are not, because older PCL writers pad files to a page.
 */
public final class PcdReader {
    private PcdReader() {
    }

    public static PointCloud read(Path path) {
        return read(path.toString(), Sources.readAll(path));
    }

    /** A PCD file already in memory; {@code source} names it in errors. */
    public static PointCloud read(String source, byte[] bytes) {
        PcdHeader header = PcdHeader.parse(source, bytes);
        PcdLayout layout = PcdLayout.of(source, header);
        switch (header.encoding()) {
            case ASCII -> readAscii(source, bytes, header, layout);
            case BINARY -> readBinary(source, bytes, header, layout);
            case BINARY_COMPRESSED -> readCompressed(source, bytes, header, layout);
        }
        return layout.build();
    }

    /** Only the header, without reading the body. */
    static PcdHeader readHeader(Path path) {
        return PcdHeader.parse(path.toString(), Sources.readAll(path));
    }

    private static void readAscii(String source, byte[] bytes, PcdHeader header, PcdLayout layout) {
        List<PcdLayout.Slot> slots = layout.slots();
        int points = (int) header.points();
        TextLines lines = new TextLines(bytes, header.bodyOffset());
        // Every value takes at least a character and a separator: a header that promises more points than the body
        // could hold fails here, before the arrays are allocated.
        long minimumBytes = (long) points * slots.size() * 2 - 1;
        if (points > 0 && minimumBytes > lines.remainingBytes()) {
            throw new MalformedInputException(source, "the header declares " + Sources.count(points) + " points of "
                    + slots.size() + " values, but the body has only " + Sources.count(lines.remainingBytes())
                    + " bytes (truncated?)");
        }
        layout.allocate(points);
        for (int p = 0; p < points; p++) {
            if (!lines.nextNonBlank()) {
                throw new MalformedInputException(source, "the body ends after " + Sources.count(p) + " points; the"
                        + " header declares " + Sources.count(points) + " (truncated?)");
            }
            if (lines.tokenCount() != slots.size()) {
                throw new MalformedInputException(source, "body line " + lines.lineNumber() + " (point " + p + ") has "
                        + lines.tokenCount() + " values; the fields need " + slots.size());
            }
            for (int s = 0; s < slots.size(); s++) {
                PcdLayout.Slot slot = slots.get(s);
                String token = lines.token(s);
                try {
                    if (slot.kind() == PcdLayout.Kind.RGB || slot.kind() == PcdLayout.Kind.RGBA) {
                        layout.storeColour(slot, p, colourBits(slot.type(), token));
                    } else {
                        layout.store(slot, p, slot.type().parse(token));
                    }
                } catch (NumberFormatException e) {
                    throw new MalformedInputException(source, "body line " + lines.lineNumber() + " (point " + p
                            + "): value " + (s + 1) + " '" + PcdHeader.printable(token) + "' is not a "
                            + slot.type().name().toLowerCase(Locale.ROOT) + " (" + e.getMessage() + ")");
                }
            }
        }
        if (lines.nextNonBlank()) {
            throw new MalformedInputException(source, "body line " + lines.lineNumber() + " holds more points than the"
                    + " " + Sources.count(points) + " the header declares");
        }
    }

    /**
     * The packed colour a text token holds. PCL writes an {@code rgb} field of TYPE F as its bits in decimal (a
     * uint32), because many opaque colours are NaN as floats; older writers wrote the float itself.
     */
    private static int colourBits(ScalarType type, String token) {
        if (!token.isEmpty() && token.chars().allMatch(Character::isDigit)) {
            return (int) (long) ScalarType.UINT32.parse(token);
        }
        if (type == ScalarType.FLOAT32) {
            return Float.floatToRawIntBits((float) type.parse(token));
        }
        return (int) (long) type.parse(token);
    }

    private static void readBinary(String source, byte[] bytes, PcdHeader header, PcdLayout layout) {
        long expected = header.points() * header.pointByteSize();
        long actual = bytes.length - (long) header.bodyOffset();
        // Bytes beyond the points are allowed: older PCL writers pad files to a page.
        if (actual < expected) {
            throw new MalformedInputException(source, "truncated: the header declares " + Sources.count(header.points())
                    + " points of " + header.pointByteSize() + " bytes (" + Sources.count(expected) + " bytes), but "
                    + "only " + Sources.count(actual) + " bytes follow the header");
        }
        decode(bytes, header.bodyOffset(), header, layout, false);
    }

    private static void readCompressed(String source, byte[] bytes, PcdHeader header, PcdLayout layout) {
        int at = header.bodyOffset();
        if (bytes.length - (long) at < 8) {
            throw new MalformedInputException(source, "the binary_compressed body needs 8 bytes of sizes, but only "
                    + (bytes.length - at) + " follow the header (truncated?)");
        }
        ByteBuffer sizes = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long compressed = sizes.getInt(at) & 0xFFFF_FFFFL;
        long decompressed = sizes.getInt(at + 4) & 0xFFFF_FFFFL;
        long available = bytes.length - (long) at - 8;
        // As with binary bodies, bytes after the compressed data are page padding from older PCL writers.
        if (compressed > available) {
            throw new MalformedInputException(source, "the body declares " + Sources.count(compressed)
                    + " compressed bytes, but only " + Sources.count(available) + " follow (truncated?)");
        }
        long expected = header.points() * header.pointByteSize();
        if (decompressed != expected) {
            throw new MalformedInputException(source, "the body declares " + Sources.count(decompressed)
                    + " bytes once decompressed, but " + Sources.count(header.points()) + " points of "
                    + header.pointByteSize() + " bytes take " + Sources.count(expected));
        }
        byte[] data = Lzf.decompress(source, bytes, at + 8, (int) compressed, (int) decompressed);
        decode(data, 0, header, layout, true);
    }

    /**
     * Reads every slot of every point from a binary body: row-major (point after point) or column-major (each
     * field for all points, then the next field), as binary and binary_compressed lay them out.
     */
    private static void decode(byte[] data, int base, PcdHeader header, PcdLayout layout, boolean columnMajor) {
        int points = (int) header.points();
        int pointSize = (int) header.pointByteSize();
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        List<PcdField> fields = header.fields();
        long[] fieldOffset = new long[fields.size()];
        for (int f = 1; f < fields.size(); f++) {
            fieldOffset[f] = fieldOffset[f - 1] + fields.get(f - 1).byteSize();
        }
        layout.allocate(points);
        for (PcdLayout.Slot slot : layout.slots()) {
            PcdField field = fields.get(slot.field());
            long start = base + (columnMajor ? fieldOffset[slot.field()] * points : fieldOffset[slot.field()])
                    + (long) slot.element() * field.size();
            int stride = columnMajor ? field.byteSize() : pointSize;
            ScalarType type = slot.type();
            switch (slot.kind()) {
                case SKIP -> {
                }
                case RGB, RGBA -> {
                    for (int p = 0; p < points; p++) {
                        layout.storeColour(slot, p, buffer.getInt((int) (start + (long) p * stride)));
                    }
                }
                default -> {
                    for (int p = 0; p < points; p++) {
                        layout.store(slot, p, type.read(buffer, (int) (start + (long) p * stride)));
                    }
                }
            }
        }
    }
}
