package org.lacuna.api.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.MalformedInputException;

/**
 * The safetensors format (Hugging Face's {@code safetensors}): an unsigned 64-bit little-endian header length, a
 * JSON header mapping each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets into the
 * data that follows the header) plus an optional {@code "__metadata__"} string map, then the raw little-endian data.
 *
 * <p>Reads F32, F16, BF16, I64 and I32 tensors, every one widened to {@code float[]} (weights are what this is for;
 * I64 is there for PyTorch's {@code num_batches_tracked} counters). Anything malformed — a truncated file, a header
 * that is not JSON, a shape that does not match its byte range, a range outside the data — fails with a
 * {@link MalformedInputException} naming the file and the tensor. {@link #write} writes F32 files that PyTorch's
 * {@code safetensors.torch.load_file} reads.
 */
public final class Safetensors {
    /** Safetensors' own limit on the header, 100 MB: a larger length means a corrupt or foreign file. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final String METADATA = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Safetensors() {
    }

    /** One tensor: its name, its stored dtype ("F32", "F16", "BF16", "I64", "I32"), its shape and its values. */
    public record Entry(String name, String dtype, long[] shape, float[] values) {
        public long elementCount() {
            return values.length;
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    /** Every tensor of the file by name, in the header's order. */
    public static Map<String, Entry> read(Path path) {
        String source = path.toString();
        return read(source, Sources.readAll(path));
    }

    /** As {@link #read(Path)} from bytes, naming {@code source} in errors. */
    public static Map<String, Entry> read(String source, byte[] bytes) {
        if (bytes.length < 8) {
            throw new MalformedInputException(source, "is " + bytes.length + " bytes: truncated before the 8-byte "
                    + "safetensors header length");
        }
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new MalformedInputException(source, "declares a " + Long.toUnsignedString(headerLength)
                    + "-byte header; a safetensors header is 2 to " + MAX_HEADER_BYTES + " bytes (not a safetensors"
                    + " file?)");
        }
        if (8 + headerLength > bytes.length) {
            throw new MalformedInputException(source, "is truncated: the header is " + headerLength + " bytes but only "
                    + (bytes.length - 8) + " follow the length");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new MalformedInputException(source, "has a header that is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (!(header instanceof ObjectNode)) {
            throw new MalformedInputException(source, "has a header that is not a JSON object");
        }
        int dataStart = 8 + (int) headerLength;
        long dataLength = bytes.length - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA)) {
                continue;
            }
            entries.put(field.getKey(), entry(source, field.getKey(), field.getValue(), bytes, dataStart, dataLength));
        }
        return entries;
    }

    private static Entry entry(String source, String name, JsonNode node, byte[] bytes, int dataStart,
                               long dataLength) {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new MalformedInputException(source, where + " is not a JSON object in the header");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new MalformedInputException(source, where + " has no dtype");
        }
        String dtype = dtypeNode.asText();
        int width = switch (dtype) {
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "I64" -> 8;
            default -> throw new MalformedInputException(source, where + " has dtype " + dtype + "; supported are "
                    + "F32, F16, BF16, I64 and I32");
        };
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new MalformedInputException(source, where + " has no shape array");
        }
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new MalformedInputException(source, where + " has shape " + shapeNode + " with a dimension that"
                        + " is not a non-negative integer");
            }
            shape[i] = d.asLong();
            count = shape[i] == 0 || count == 0 ? 0 : Math.multiplyHigh(count, shape[i]) != 0
                    ? Long.MAX_VALUE : count * shape[i];
        }
        if (count > Sources.MAX_BYTES / width) {
            throw new MalformedInputException(source, where + " has shape " + Arrays.toString(shape) + ", too many "
                    + "elements for one Java array");
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2 || !offsets.get(0).isIntegralNumber()
                || !offsets.get(1).isIntegralNumber()) {
            throw new MalformedInputException(source, where + " has no [begin, end] data_offsets");
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new MalformedInputException(source, where + " has data_offsets [" + begin + ", " + end + "]: begin"
                    + " must be non-negative and not after end");
        }
        if (end > dataLength) {
            throw new MalformedInputException(source, where + " needs bytes up to " + end + " of the data but the file"
                    + " holds " + dataLength + " (truncated?)");
        }
        if (end - begin != count * width) {
            throw new MalformedInputException(source, where + " is " + dtype + Arrays.toString(shape) + ", "
                    + count * width + " bytes, but its data_offsets span " + (end - begin));
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) (end - begin))
                .order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (dtype) {
                case "F32" -> data.getFloat();
                case "F16" -> Float.float16ToFloat(data.getShort());
                case "BF16" -> Float.intBitsToFloat((data.getShort() & 0xFFFF) << 16);
                case "I32" -> data.getInt();
                default -> data.getLong();
            };
        }
        return new Entry(name, dtype, shape, values);
    }

    /** Writes {@code entries} as F32 (whatever their recorded dtype), in the given order, with no metadata. */
    public static void write(Path path, Collection<Entry> entries) {
        String call = "Safetensors.write";
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (Entry e : entries) {
            long count = 1;
            for (long d : e.shape()) {
                count *= d;
            }
            if (count != e.values().length) {
                throw InvalidInputException.shape(call, "tensor '" + e.name() + "' has " + e.values().length
                        + " values for shape " + Arrays.toString(e.shape()));
            }
            if (header.has(e.name())) {
                throw InvalidInputException.argument(call, "tensor '" + e.name() + "' appears twice");
            }
            ObjectNode node = header.putObject(e.name());
            node.put("dtype", "F32");
            node.putArray("shape").addAll(Arrays.stream(e.shape()).mapToObj(JSON.getNodeFactory()::numberNode)
                    .toList());
            node.putArray("data_offsets").add(offset).add(offset + 4 * count);
            offset += 4 * count;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a header of names and numbers always serialises", e);
        }
        // Safetensors pads the header with spaces to 8 bytes so that the data is aligned.
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (Entry e : entries) {
            for (float v : e.values()) {
                out.putFloat(v);
            }
        }
        try {
            Files.write(path, out.array());
        } catch (IOException e) {
            throw Sources.unreadable(path.toString(), e);
        }
    }
}
