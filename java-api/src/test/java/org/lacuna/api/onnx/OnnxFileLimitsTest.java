package org.lacuna.api.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ai.onnx.proto.OnnxMl.TensorProto;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.error.NotSupportedException;

/** Corrupt sizes in a model file are clear errors, found before anything is allocated from them. */
class OnnxFileLimitsTest {
    @TempDir
    Path dir;

    @Test
    void dimsThatPromiseMoreThanTheDataAreMalformedBeforeAllocating() {
        for (int type : new int[] {TensorProto.DataType.FLOAT_VALUE, TensorProto.DataType.FLOAT16_VALUE,
                TensorProto.DataType.DOUBLE_VALUE}) {
            TensorProto t = TensorProto.newBuilder().setName("w").setDataType(type).addDims(2_147_483_639L)
                    .setRawData(ByteString.copyFrom(new byte[200])).build();
            var e = assertThrows(MalformedInputException.class, () -> OnnxFile.floats(t, "tiny.onnx"));
            assertTrue(e.getMessage().contains("holds 200 bytes"), e.getMessage());
        }
        TensorProto listed = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(2_147_483_639L).addFloatData(1f).build();
        assertThrows(MalformedInputException.class, () -> OnnxFile.floats(listed, "tiny.onnx"));
        for (int type : new int[] {TensorProto.DataType.INT64_VALUE, TensorProto.DataType.INT32_VALUE}) {
            TensorProto t = TensorProto.newBuilder().setName("ids").setDataType(type).addDims(2_147_483_639L)
                    .setRawData(ByteString.copyFrom(new byte[200])).build();
            assertThrows(MalformedInputException.class, () -> OnnxFile.longs(t, "tiny.onnx"));
        }
        TensorProto overflowing = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(1L << 40).addDims(1L << 40).build();
        assertTrue(assertThrows(MalformedInputException.class, () -> OnnxFile.floats(overflowing, "tiny.onnx"))
                .getMessage().contains("overflows"));
    }

    @Test
    void aFileTooBigToReadIsAClearError() throws Exception {
        Path big = dir.resolve("big.onnx");
        try (var file = new RandomAccessFile(big.toFile(), "rw")) {
            file.setLength(3L << 30); // sparse: no disk is written
        }
        var e = assertThrows(NotSupportedException.class, () -> OnnxFile.read(big));
        assertTrue(e.getMessage().contains("external data"), e.getMessage());
    }
}
