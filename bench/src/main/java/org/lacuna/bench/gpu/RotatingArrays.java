package org.lacuna.bench.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;

/**
 * The copies of an input set that an {@link InputRotation} asks for, laid out in one device buffer:
 * copy {@code c}, array {@code a} starts at {@code c * setStride + offsets[a]}. One buffer rather than one per copy
 * because a small set may need thousands of copies, and one upload fills them all.
 */
public final class RotatingArrays implements AutoCloseable {
    /** Keeps every array aligned for vector loads and coalesced access, as a fresh allocation would be. */
    static final long ALIGNMENT = 256;

    private final List<ArraySpec> specs;
    private final long[] offsets;
    private final InputRotation rotation;
    private final Backend backend;
    private final DeviceBuffer buffer;

    private RotatingArrays(Backend backend, List<ArraySpec> specs, long[] offsets, InputRotation rotation) {
        this.backend = backend;
        this.specs = specs;
        this.offsets = offsets;
        this.rotation = rotation;
        this.buffer = backend.allocate(rotation.workingSetBytes());
    }

    /** Allocates the copies of {@code specs} that {@code planner} decides for a set of their (aligned) size. */
    public static RotatingArrays allocate(Backend backend, List<ArraySpec> specs, RotationPlanner planner) {
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("an input set needs at least one array");
        }
        long[] offsets = new long[specs.size()];
        long setBytes = layOut(specs, offsets);
        return new RotatingArrays(backend, List.copyOf(specs), offsets, planner.plan(setBytes));
    }

    /** Fills {@code offsets} with each array's aligned start inside a copy; returns the copy's aligned size. */
    static long layOut(List<ArraySpec> specs, long[] offsets) {
        long cursor = 0;
        for (int i = 0; i < specs.size(); i++) {
            offsets[i] = cursor;
            cursor = alignUp(cursor + Math.max(1, specs.get(i).byteSize()));
        }
        return cursor;
    }

    static long alignUp(long bytes) {
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    public InputRotation rotation() {
        return rotation;
    }

    /** Array {@code arrayIndex} of the copy that launch {@code launchIndex} uses. */
    public DeviceArray array(long launchIndex, int arrayIndex) {
        ArraySpec spec = specs.get(arrayIndex);
        long offset = rotation.copyFor(launchIndex) * rotation.setBytes() + offsets[arrayIndex];
        return new DeviceArray(buffer, offset, spec.dtype(), spec.shape());
    }

    /**
     * Uploads the same contents into every copy with one transfer. {@code hostArrays[a]} holds array {@code a}'s
     * bytes, or is null to leave that array zeroed (outputs).
     */
    public void uploadToEveryCopy(MemorySegment... hostArrays) {
        if (hostArrays.length != specs.size()) {
            throw new IllegalArgumentException("expected " + specs.size() + " host arrays, got " + hostArrays.length);
        }
        for (int a = 0; a < hostArrays.length; a++) {
            if (hostArrays[a] != null && hostArrays[a].byteSize() != specs.get(a).byteSize()) {
                throw new IllegalArgumentException("host array " + a + " has " + hostArrays[a].byteSize()
                        + " bytes, its spec " + specs.get(a) + " needs " + specs.get(a).byteSize());
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(rotation.workingSetBytes(), ALIGNMENT);
            for (int copy = 0; copy < rotation.copies(); copy++) {
                long base = copy * rotation.setBytes();
                for (int a = 0; a < hostArrays.length; a++) {
                    if (hostArrays[a] != null) {
                        MemorySegment.copy(hostArrays[a], 0, image, base + offsets[a], hostArrays[a].byteSize());
                    }
                }
            }
            backend.upload(image, buffer, 0, image.byteSize());
            backend.synchronize();
        }
    }

    @Override
    public void close() {
        buffer.close();
    }

    /** Decides the rotation of a set of a given size; {@link BenchContext} supplies one from its settings. */
    @FunctionalInterface
    public interface RotationPlanner {
        InputRotation plan(long setBytes);
    }
}
