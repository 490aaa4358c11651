package org.lacuna.runtime.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.memory.HostMemory;

/**
 * Moves Java arrays to and from backend memory in any dtype: floats are rounded to F16/BF16 on the way in and
 * widened on the way out; integers travel as they are.
 */
public final class HostData {
    private HostData() {
    }

    /** Encodes {@code values} as {@code dtype} into a fresh buffer of {@code backend} and returns the array view. */
    public static DeviceArray upload(Backend backend, DType dtype, Shape shape, float[] values) {
        requireFloat("HostData.upload", dtype);
        requireCount("HostData.upload", shape, values.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = HostMemory.allocate(arena, (long) values.length * dtype.byteSize(), 1, "HostData.upload");
            for (int i = 0; i < values.length; i++) {
                switch (dtype) {
                    case F32 -> host.setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
                    case F16 -> host.setAtIndex(ValueLayout.JAVA_SHORT, i, HalfFloats.toF16(values[i]));
                    case BF16 -> host.setAtIndex(ValueLayout.JAVA_SHORT, i, HalfFloats.toBf16(values[i]));
                    default -> throw new AssertionError(dtype);
                }
            }
            return uploadBytes(backend, dtype, shape, host);
        }
    }

    public static DeviceArray upload(Backend backend, Shape shape, int[] values) {
        return uploadIntegers(backend, DType.I32, shape, MemorySegment.ofArray(values));
    }

    public static DeviceArray upload(Backend backend, Shape shape, long[] values) {
        return uploadIntegers(backend, DType.I64, shape, MemorySegment.ofArray(values));
    }

    /**
     * Integers travel as they are: the Java array's bytes (native order, which is the backends') are staged in aligned
     * native memory and uploaded.
     */
    private static DeviceArray uploadIntegers(Backend backend, DType dtype, Shape shape, MemorySegment values) {
        requireCount("HostData.upload", shape, (int) (values.byteSize() / dtype.byteSize())); // a Java array: int-sized
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = HostMemory.allocate(arena, values.byteSize(), dtype.byteSize(), "HostData.upload");
            MemorySegment.copy(values, 0, host, 0, values.byteSize());
            return uploadBytes(backend, dtype, shape, host);
        }
    }

    /** Copies host bytes already in {@code dtype}'s encoding into a fresh buffer. */
    public static DeviceArray uploadBytes(Backend backend, DType dtype, Shape shape, MemorySegment host) {
        long bytes = shape.elementCount() * dtype.byteSize();
        DeviceBuffer buffer = backend.allocate(bytes);
        try {
            backend.upload(host, buffer, 0, bytes);
            return new DeviceArray(buffer, 0, dtype, shape);
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
    }

    /** Every element of a floating-point array, widened to float. Waits for pending work on the backend. */
    public static float[] downloadFloats(Backend backend, DeviceArray array) {
        requireFloat("HostData.downloadFloats", array.dtype());
        float[] values = new float[toIntCount("HostData.downloadFloats", array)];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = downloadBytes(backend, array, arena);
            for (int i = 0; i < values.length; i++) {
                values[i] = switch (array.dtype()) {
                    case F32 -> host.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    case F16 -> HalfFloats.fromF16(host.getAtIndex(ValueLayout.JAVA_SHORT, i));
                    case BF16 -> HalfFloats.fromBf16(host.getAtIndex(ValueLayout.JAVA_SHORT, i));
                    default -> throw new AssertionError(array.dtype());
                };
            }
        }
        return values;
    }

    public static int[] downloadInts(Backend backend, DeviceArray array) {
        requireType("HostData.downloadInts", array.dtype(), DType.I32);
        try (Arena arena = Arena.ofConfined()) {
            toIntCount("HostData.downloadInts", array);
            return downloadBytes(backend, array, arena).toArray(ValueLayout.JAVA_INT);
        }
    }

    public static long[] downloadLongs(Backend backend, DeviceArray array) {
        requireType("HostData.downloadLongs", array.dtype(), DType.I64);
        try (Arena arena = Arena.ofConfined()) {
            toIntCount("HostData.downloadLongs", array);
            return downloadBytes(backend, array, arena).toArray(ValueLayout.JAVA_LONG);
        }
    }

    private static MemorySegment downloadBytes(Backend backend, DeviceArray array, Arena arena) {
        array.checkOpen("download");
        MemorySegment host = HostMemory.allocate(arena, array.byteSize(), 8, "HostData.download").asSlice(0,
                array.byteSize());
        backend.download(array.buffer(), array.byteOffset(), host, array.byteSize());
        return host;
    }

    private static int toIntCount(String call, DeviceArray array) {
        if (array.elementCount() > Integer.MAX_VALUE - 8) {
            throw InvalidInputException.argument(call, array.elementCount() + " elements do not fit a Java array");
        }
        return (int) array.elementCount();
    }

    private static void requireFloat(String call, DType dtype) {
        if (!dtype.isFloatingPoint()) {
            throw InvalidInputException.dtype(call, "float data cannot be stored as " + dtype);
        }
    }

    private static void requireType(String call, DType actual, DType expected) {
        if (actual != expected) {
            throw InvalidInputException.dtype(call, "expected " + expected + ", got " + actual);
        }
    }

    private static void requireCount(String call, Shape shape, int length) {
        if (shape.elementCount() != length) {
            throw InvalidInputException.shape(call, "shape " + shape + " holds " + shape.elementCount()
                    + " elements but " + length + " values were given");
        }
    }
}
