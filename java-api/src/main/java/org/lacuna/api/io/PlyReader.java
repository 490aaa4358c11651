package org.lacuna.api.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * PLY files (ascii, binary_little_endian, binary_big_endian): the {@code vertex} element's x, y, z, with its other
 * scalar properties (intensity, red, nx, ...) as channels named like the property. List properties of the vertex
 * element and all other elements (faces, edges, ...) are skipped instance by instance, those after the vertices
 * too, so that a file truncated in its faces is reported rather than read as if whole.
 */
public final class PlyReader {
    private static final String VERTEX = "vertex";

    private PlyReader() {
    }

    public static PointCloud read(Path path) {
        return read(path.toString(), Sources.readAll(path));
    }

    /** A PLY file already in memory; {@code source} names it in errors. */
    public static PointCloud read(String source, byte[] bytes) {
        PlyHeader header = PlyHeader.parse(source, bytes);
        PlyHeader.Element vertex = header.element(VERTEX);
        if (vertex == null) {
            throw new MalformedInputException(source, "has no vertex element; its elements are "
                    + header.elements().stream().map(PlyHeader.Element::name).toList());
        }
        for (String axis : List.of("x", "y", "z")) {
            int index = vertex.indexOf(axis);
            if (index < 0 || vertex.properties().get(index).isList()) {
                throw new MalformedInputException(source, "the vertex element has no scalar property '" + axis
                        + "'; its properties are "
                        + vertex.properties().stream().map(PlyHeader.Property::name).toList());
            }
        }
        if (vertex.count() > Sources.MAX_BYTES) {
            throw new MalformedInputException(source, Sources.count(vertex.count()) + " vertices are more than a Java"
                    + " array holds");
        }
        VertexColumns columns = new VertexColumns(vertex);
        if (header.format() == PlyHeader.Format.ASCII) {
            new AsciiBody(source, bytes, header).read(vertex, columns);
        } else {
            ByteOrder order = header.format() == PlyHeader.Format.BINARY_LITTLE_ENDIAN ? ByteOrder.LITTLE_ENDIAN
                    : ByteOrder.BIG_ENDIAN;
            new BinaryBody(source, ByteBuffer.wrap(bytes).order(order), header.bodyOffset()).read(header, vertex,
                    columns);
        }
        return columns.build();
    }

    /** The vertex properties' destinations: column 0..2 for x, y, z, then one per channel; -1 for lists. */
    private static final class VertexColumns {
        private final int[] destination;
        private final List<String> channelNames = new ArrayList<>();
        private float[][] columns;

        VertexColumns(PlyHeader.Element vertex) {
            List<PlyHeader.Property> properties = vertex.properties();
            destination = new int[properties.size()];
            for (int i = 0; i < properties.size(); i++) {
                PlyHeader.Property property = properties.get(i);
                destination[i] = switch (property.name()) {
                    case "x" -> 0;
                    case "y" -> 1;
                    case "z" -> 2;
                    default -> {
                        if (property.isList()) {
                            yield -1;
                        }
                        channelNames.add(property.name());
                        yield 2 + channelNames.size();
                    }
                };
            }
        }

        void allocate(int vertices) {
            columns = new float[3 + channelNames.size()][vertices];
        }

        void store(int property, int vertex, double value) {
            columns[destination[property]][vertex] = (float) value;
        }

        PointCloud build() {
            float[][] channels = new float[channelNames.size()][];
            System.arraycopy(columns, 3, channels, 0, channels.length);
            return PointCloud.of(columns[0], columns[1], columns[2], channelNames, channels);
        }
    }

    private record BinaryBody(String source, ByteBuffer buffer, int start) {
        void read(PlyHeader header, PlyHeader.Element vertex, VertexColumns columns) {
            int at = start;
            List<PlyHeader.Element> elements = header.elements();
            int vertexIndex = elements.indexOf(vertex);
            for (PlyHeader.Element element : elements.subList(0, vertexIndex)) {
                at = skip(element, at);
            }
            at = readVertices(vertex, columns, at);
            for (PlyHeader.Element element : elements.subList(vertexIndex + 1, elements.size())) {
                at = skip(element, at);
            }
        }

        private int readVertices(PlyHeader.Element vertex, VertexColumns columns, int start) {
            int at = start;
            int count = (int) vertex.count();
            long fixed = vertex.fixedByteSize();
            // The smallest a vertex can be (a list takes at least its length) bounds the count before allocating.
            long minimum = fixed >= 0 ? fixed : minimumByteSize(vertex);
            if (count * minimum > buffer.limit() - (long) at) {
                throw new MalformedInputException(source, "the vertex element declares " + Sources.count(count)
                        + " vertices of " + (fixed >= 0 ? "" : "at least ") + minimum + " bytes, but only "
                        + Sources.count(buffer.limit() - (long) at) + " bytes remain (truncated?)");
            }
            columns.allocate(count);
            List<PlyHeader.Property> properties = vertex.properties();
            for (int v = 0; v < count; v++) {
                for (int p = 0; p < properties.size(); p++) {
                    PlyHeader.Property property = properties.get(p);
                    if (property.isList()) {
                        at = skipList(property, at, VERTEX, v);
                    } else {
                        require(at, property.type().byteSize(), VERTEX, v);
                        columns.store(p, v, property.type().read(buffer, at));
                        at += property.type().byteSize();
                    }
                }
            }
            return at;
        }

        private int skip(PlyHeader.Element element, int at) {
            long fixed = element.fixedByteSize();
            if (fixed >= 0) {
                long bytes = fixed * element.count();
                if (fixed > 0 && element.count() > (buffer.limit() - (long) at) / fixed) {
                    throw new MalformedInputException(source, "element '" + element.name() + "' declares "
                            + Sources.count(element.count()) + " instances of " + fixed + " bytes, but only "
                            + Sources.count(buffer.limit() - (long) at) + " bytes remain (truncated?)");
                }
                return (int) (at + bytes);
            }
            // Each instance takes at least one byte, so a lying count runs out of bytes rather than looping long.
            for (long i = 0; i < element.count(); i++) {
                for (PlyHeader.Property property : element.properties()) {
                    if (property.isList()) {
                        at = skipList(property, at, element.name(), i);
                    } else {
                        require(at, property.type().byteSize(), element.name(), i);
                        at += property.type().byteSize();
                    }
                }
            }
            return at;
        }

        private int skipList(PlyHeader.Property property, int at, String element, long instance) {
            int countSize = property.countType().byteSize();
            require(at, countSize, element, instance);
            long length = property.countType().readLong(buffer, at);
            if (length < 0) {
                throw new MalformedInputException(source, element + " " + instance + ": list '" + property.name()
                        + "' has length " + length);
            }
            at += countSize;
            long bytes = length * property.type().byteSize();
            if (length > buffer.limit() || at + bytes > buffer.limit()) {
                throw truncated(at, Math.min(bytes, Long.MAX_VALUE / 2), element, instance);
            }
            return (int) (at + bytes);
        }

        private void require(int at, long bytes, String element, long instance) {
            if (at + bytes > buffer.limit()) {
                throw truncated(at, bytes, element, instance);
            }
        }

        private MalformedInputException truncated(int at, long bytes, String element, long instance) {
            return new MalformedInputException(source, "truncated: " + element + " " + instance + " needs "
                    + Sources.count(bytes) + " bytes at offset " + Sources.count(at) + " but the file ends at "
                    + Sources.count(buffer.limit()));
        }

        private static long minimumByteSize(PlyHeader.Element element) {
            long size = 0;
            for (PlyHeader.Property property : element.properties()) {
                size += property.isList() ? property.countType().byteSize() : property.type().byteSize();
            }
            return size;
        }
    }

    /** ASCII bodies hold one element instance per line. */
    private record AsciiBody(String source, byte[] bytes, PlyHeader header) {
        void read(PlyHeader.Element vertex, VertexColumns columns) {
            TextLines lines = new TextLines(bytes, header.bodyOffset());
            for (PlyHeader.Element element : header.elements()) {
                if (element == vertex) {
                    int count = (int) vertex.count();
                    // Each value takes a character and a separator: a lying count fails before the allocation.
                    if ((long) count * vertex.properties().size() * 2 - 1 > lines.remainingBytes()) {
                        throw new MalformedInputException(source, "the vertex element declares "
                                + Sources.count(count) + " vertices, more than the remaining "
                                + Sources.count(lines.remainingBytes()) + " bytes can hold (truncated?)");
                    }
                    columns.allocate(count);
                }
                for (long i = 0; i < element.count(); i++) {
                    if (!lines.nextNonBlank()) {
                        throw new MalformedInputException(source, "the body ends in element '" + element.name()
                                + "' after " + Sources.count(i) + " of its " + Sources.count(element.count())
                                + " lines (truncated?)");
                    }
                    instance(element, lines, i, element == vertex ? columns : null);
                }
            }
            if (lines.nextNonBlank()) {
                throw new MalformedInputException(source, "body line " + lines.lineNumber() + " is beyond the last"
                        + " element the header declares");
            }
        }

        /** Checks one instance's line against the element's properties, storing the vertex values. */
        private void instance(PlyHeader.Element element, TextLines lines, long index, VertexColumns columns) {
            List<PlyHeader.Property> properties = element.properties();
            int t = 0;
            for (int p = 0; p < properties.size(); p++) {
                PlyHeader.Property property = properties.get(p);
                if (property.isList()) {
                    long length = (long) parse(lines, t++, property.countType(), element, index);
                    if (length < 0 || t + length > lines.tokenCount()) {
                        throw new MalformedInputException(source, "body line " + lines.lineNumber() + " ("
                                + element.name() + " " + index + "): list '" + property.name() + "' has length "
                                + length + " but the line holds " + (lines.tokenCount() - t) + " more values");
                    }
                    t += (int) length;
                } else {
                    double value = parse(lines, t++, property.type(), element, index);
                    if (columns != null) {
                        columns.store(p, (int) index, value);
                    }
                }
            }
            if (t != lines.tokenCount()) {
                throw new MalformedInputException(source, "body line " + lines.lineNumber() + " ("
                        + element.name() + " " + index + ") has " + lines.tokenCount() + " values; the "
                        + element.name() + " properties take " + t);
            }
        }

        private double parse(TextLines lines, int token, ScalarType type, PlyHeader.Element element, long index) {
            if (token >= lines.tokenCount()) {
                throw new MalformedInputException(source, "body line " + lines.lineNumber() + " (" + element.name()
                        + " " + index + ") has only " + lines.tokenCount() + " values");
            }
            try {
                return type.parse(lines.token(token));
            } catch (NumberFormatException e) {
                throw new MalformedInputException(source, "body line " + lines.lineNumber() + " (" + element.name()
                        + " " + index + "): '" + PcdHeader.printable(lines.token(token)) + "' is not a "
                        + type.name().toLowerCase(Locale.ROOT) + " (" + e.getMessage() + ")");
            }
        }
    }
}
