package org.lacuna.api.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.error.NotSupportedException;

/**
 * Reads an ONNX model file with protobuf-java (ONNX-ML's generated classes {@code ai.onnx.proto.OnnxMl}, from
 * {@code org.tribuo:tribuo-util-onnx}) and decodes its tensors. Every failure names the file: missing, truncated or not a model, and tensors whose data lives in an
 * external file (models over 2 GB), which are not supported.
 */
public final class OnnxFile {
    /** Protobuf's default nesting limit is 100; graphs nest only a few levels, but leave room for subgraphs. */
    private static final int RECURSION_LIMIT = 200;

    /** The largest file read: a Java array's limit, and above a protobuf's own 2 GB. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private OnnxFile() {
    }

    public static ModelProto read(Path file) {
        String source = file.toString();
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new NotSupportedException("OnnxFile", source + ": the ONNX file is " + size + " bytes; Lacuna "
                        + "reads models of up to " + MAX_FILE_BYTES + " bytes (a protobuf's limit is 2 GB: larger "
                        + "models keep their weights in external data, which Lacuna does not read)");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new MalformedInputException(source, "no such ONNX file");
        } catch (IOException e) {
            throw new MalformedInputException(source, "cannot read the ONNX file: " + e.getMessage(), e);
        }
        return parse(bytes, source);
    }

    public static ModelProto read(InputStream in, String source) {
        try {
            return parse(in.readAllBytes(), source);
        } catch (IOException e) {
            throw new MalformedInputException(source, "cannot read the ONNX model: " + e.getMessage(), e);
        }
    }

    static ModelProto parse(byte[] bytes, String source) {
        if (bytes.length == 0) {
            throw new MalformedInputException(source, "the ONNX file is empty");
        }
        ModelProto model;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(RECURSION_LIMIT);
            // Let large initializers alias the file's bytes instead of being copied once more.
            in.enableAliasing(true);
            model = ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedInputException(source, "not a valid ONNX model (truncated or corrupt protobuf): "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new MalformedInputException(source, "cannot parse the ONNX model: " + e.getMessage(), e);
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new MalformedInputException(source, "the file parses but holds no graph: not an ONNX model");
        }
        return model;
    }

    /** A float tensor's values (FLOAT, FLOAT16 or DOUBLE data widened or narrowed to float), row-major. */
    static float[] floats(TensorProto t, String source) {
        long count = elementCount(t, source);
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            throw new NotSupportedException("OnnxFile", source + ": tensor '" + t.getName()
                    + "' keeps its data in an external file, which Lacuna does not read; save the model as one file");
        }
        int n = (int) count;
        switch (t.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> requireData(t, source, n, 4, t.getFloatDataCount());
            case TensorProto.DataType.DOUBLE_VALUE -> requireData(t, source, n, 8, t.getDoubleDataCount());
            case TensorProto.DataType.FLOAT16_VALUE -> requireData(t, source, n, 2, t.getInt32DataCount());
            default -> throw new NotSupportedException("OnnxFile", source + ": tensor '" + t.getName()
                    + "' has data type " + dataTypeName(t.getDataType()) + " where a float tensor is expected");
        }
        float[] out = new float[n];
        switch (t.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> {
                if (t.hasRawData()) {
                    raw(t, source, n, 4).asFloatBuffer().get(out);
                } else {
                    requireCount(t, source, t.getFloatDataCount(), n);
                    for (int i = 0; i < n; i++) {
                        out[i] = t.getFloatData(i);
                    }
                }
            }
            case TensorProto.DataType.DOUBLE_VALUE -> {
                if (t.hasRawData()) {
                    var doubles = raw(t, source, n, 8).asDoubleBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = (float) doubles.get(i);
                    }
                } else {
                    requireCount(t, source, t.getDoubleDataCount(), n);
                    for (int i = 0; i < n; i++) {
                        out[i] = (float) t.getDoubleData(i);
                    }
                }
            }
            case TensorProto.DataType.FLOAT16_VALUE -> {
                if (t.hasRawData()) {
                    var halves = raw(t, source, n, 2).asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = Float.float16ToFloat(halves.get(i));
                    }
                } else {
                    // The specification stores FLOAT16 bit patterns in int32_data.
                    requireCount(t, source, t.getInt32DataCount(), n);
                    for (int i = 0; i < n; i++) {
                        out[i] = Float.float16ToFloat((short) t.getInt32Data(i));
                    }
                }
            }
            default -> throw new NotSupportedException("OnnxFile", source + ": tensor '" + t.getName()
                    + "' has data type " + dataTypeName(t.getDataType()) + " where a float tensor is expected");
        }
        return out;
    }

    /** An integer tensor's values (INT64 or INT32), row-major. */
    static long[] longs(TensorProto t, String source) {
        int n = (int) elementCount(t, source);
        switch (t.getDataType()) {
            case TensorProto.DataType.INT64_VALUE -> requireData(t, source, n, 8, t.getInt64DataCount());
            case TensorProto.DataType.INT32_VALUE -> requireData(t, source, n, 4, t.getInt32DataCount());
            default -> throw new NotSupportedException("OnnxFile", source + ": tensor '" + t.getName()
                    + "' has data type " + dataTypeName(t.getDataType()) + " where an integer tensor is expected");
        }
        long[] out = new long[n];
        switch (t.getDataType()) {
            case TensorProto.DataType.INT64_VALUE -> {
                if (t.hasRawData()) {
                    raw(t, source, n, 8).asLongBuffer().get(out);
                } else {
                    requireCount(t, source, t.getInt64DataCount(), n);
                    for (int i = 0; i < n; i++) {
                        out[i] = t.getInt64Data(i);
                    }
                }
            }
            case TensorProto.DataType.INT32_VALUE -> {
                if (t.hasRawData()) {
                    var ints = raw(t, source, n, 4).asIntBuffer();
                    for (int i = 0; i < n; i++) {
                        out[i] = ints.get(i);
                    }
                } else {
                    requireCount(t, source, t.getInt32DataCount(), n);
                    for (int i = 0; i < n; i++) {
                        out[i] = t.getInt32Data(i);
                    }
                }
            }
            default -> throw new NotSupportedException("OnnxFile", source + ": tensor '" + t.getName()
                    + "' has data type " + dataTypeName(t.getDataType()) + " where an integer tensor is expected");
        }
        return out;
    }

    static boolean isFloat(TensorProto t) {
        int type = t.getDataType();
        return type == TensorProto.DataType.FLOAT_VALUE || type == TensorProto.DataType.FLOAT16_VALUE
                || type == TensorProto.DataType.DOUBLE_VALUE;
    }

    static String dataTypeName(int type) {
        TensorProto.DataType known = TensorProto.DataType.forNumber(type);
        return known == null ? "#" + type : known.name();
    }

    private static long elementCount(TensorProto t, String source) {
        long count = 1;
        for (long d : t.getDimsList()) {
            if (d < 0) {
                throw new MalformedInputException(source, "tensor '" + t.getName() + "' has negative dimension " + d);
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw new MalformedInputException(source, "tensor '" + t.getName() + "' has dims " + t.getDimsList()
                        + " whose product overflows");
            }
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException("OnnxFile", source + ": tensor '" + t.getName() + "' has " + count
                    + " elements, more than a Java array holds");
        }
        return count;
    }

    /**
     * Checks the tensor holds the data its dims promise before an array is sized from the dims: a small corrupt file
     * must not make the reader allocate gigabytes.
     */
    private static void requireData(TensorProto t, String source, int n, int width, int values) {
        if (t.hasRawData()) {
            raw(t, source, n, width);
        } else {
            requireCount(t, source, values, n);
        }
    }

    private static ByteBuffer raw(TensorProto t, String source, int n, int width) {
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (raw.remaining() != (long) n * width) {
            throw new MalformedInputException(source, "tensor '" + t.getName() + "' " + t.getDimsList() + " holds "
                    + raw.remaining() + " bytes of data, expected " + (long) n * width);
        }
        return raw;
    }

    private static void requireCount(TensorProto t, String source, int have, int n) {
        if (have != n) {
            throw new MalformedInputException(source, "tensor '" + t.getName() + "' " + t.getDimsList() + " holds "
                    + have + " values, expected " + n);
        }
    }
}
