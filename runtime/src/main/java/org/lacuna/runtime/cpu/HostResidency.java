package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.ConvolutionContracts;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.sparseconv.BackendResidency;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapTables;
import org.lacuna.runtime.sparseconv.ResidentKernelMap;

/**
 * The resident state of the CPU backends, whose memory is the host's: a set's keys and a map's tables are the host
 * arrays themselves, wrapped as {@link DeviceArray}s of the backend without a copy (and so without a transfer).
 */
final class HostResidency {
    private HostResidency() {
    }

    static DeviceArray keys(BackendResidency backend, String backendName, CoordinateSet set) {
        return set.residentKeys(backend, () -> wrap(backendName, set.keyMemory(), DType.I64, Shape.of(set.size())));
    }

    /**
     * {@link org.lacuna.runtime.ops.ConvolutionOps#adoptCoordinateKeys} on host memory: the set's own keys are the
     * resident ones, so the offered array (a view of the voxeliser's host keys, the same values) is let go.
     */
    static DeviceArray adoptKeys(BackendResidency backend, String backendName, CoordinateSet set, DeviceArray keys) {
        try {
            ConvolutionContracts.adoptCoordinateKeys(backendName, set, keys);
        } finally {
            if (keys != null) {
                keys.buffer().close();
            }
        }
        return keys(backend, backendName, set);
    }

    /** The host keys {@code keys} as I64 [n] in the backend's memory (a read-only view, nothing copied). */
    static DeviceArray wrapKeys(String backendName, long[] keys) {
        return wrap(backendName, MemorySegment.ofArray(keys), DType.I64, Shape.of(keys.length));
    }

    static ResidentKernelMap map(BackendResidency backend, String backendName, KernelMap map) {
        return map.inputs().residentMap(backend, map.geometry(), () -> {
            MapTables t = map.sharedTables();
            return new ResidentKernelMap(map,
                    wrap(backendName, MemorySegment.ofArray(t.neighbours()), DType.I32,
                            Shape.of(map.outputCount(), map.volume())),
                    wrap(backendName, MemorySegment.ofArray(t.masks()), DType.I64,
                            Shape.of(map.outputCount(), map.maskWords())),
                    wrap(backendName, MemorySegment.ofArray(t.pairStart()), DType.I64, Shape.of(map.volume() + 1L)),
                    wrap(backendName, MemorySegment.ofArray(t.pairInputs()), DType.I32, Shape.of(map.totalPairs())),
                    wrap(backendName, MemorySegment.ofArray(t.pairOutputs()), DType.I32, Shape.of(map.totalPairs())));
        });
    }

    /** {@link org.lacuna.runtime.ops.ConvolutionOps#unpackCoordinates} on host memory. */
    static void unpack(String backendName, DeviceArray keys, DeviceArray coordinates) {
        String call = "unpackCoordinates";
        ConvolutionContracts.unpackCoordinates(backendName, keys, coordinates);
        MemorySegment in = ((CpuBuffer) keys.buffer()).readSegment(call);
        MemorySegment out = ((CpuBuffer) coordinates.buffer()).segment(call);
        long n = keys.shape().dim(0);
        for (long row = 0; row < n; row++) {
            long key = in.get(ValueLayout.JAVA_LONG_UNALIGNED, keys.byteOffset() + row * Long.BYTES);
            long at = coordinates.byteOffset() + row * 4 * Integer.BYTES;
            out.set(ValueLayout.JAVA_INT_UNALIGNED, at, CoordinateKey.batch(key));
            out.set(ValueLayout.JAVA_INT_UNALIGNED, at + Integer.BYTES, CoordinateKey.x(key));
            out.set(ValueLayout.JAVA_INT_UNALIGNED, at + 2 * Integer.BYTES, CoordinateKey.y(key));
            out.set(ValueLayout.JAVA_INT_UNALIGNED, at + 3 * Integer.BYTES, CoordinateKey.z(key));
        }
    }

    private static DeviceArray wrap(String backendName, MemorySegment memory, DType dtype, Shape shape) {
        return new DeviceArray(CpuBuffer.view(backendName, memory), 0, dtype, shape);
    }
}
