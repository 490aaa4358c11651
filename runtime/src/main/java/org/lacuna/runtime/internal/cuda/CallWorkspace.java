package org.lacuna.runtime.internal.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import jcuda.driver.CUstream;
import org.lacuna.runtime.memory.CachingPool;

/**
 * Device memory and host transfers for one op call whose inputs live in Java arrays (kernel maps, point clouds):
 * pool blocks released on close, on every path, and copies through the backend's pinned staging. Releasing at
 * once is safe: anything that reuses a block is issued later on the same stream.
 */
final class CallWorkspace implements AutoCloseable {
    private final CachingPool pool;
    private final PinnedStaging staging;
    private final CUstream stream;
    private final List<CachingPool.Block> blocks = new ArrayList<>();

    CallWorkspace(CachingPool pool, PinnedStaging staging, CUstream stream) {
        this.pool = pool;
        this.staging = staging;
        this.stream = stream;
    }

    /** Device memory for this call; never empty, so a zero-length array still has a valid address. */
    long acquire(long bytes) {
        CachingPool.Block block = pool.acquire(Math.max(bytes, 16));
        blocks.add(block);
        return block.address();
    }

    long upload(int[] values) {
        return upload(MemorySegment.ofArray(values));
    }

    long upload(long[] values) {
        return upload(MemorySegment.ofArray(values));
    }

    long upload(float[] values) {
        return upload(MemorySegment.ofArray(values));
    }

    /** Waits for the stream (staging does): the result is needed on the host now. */
    int[] downloadInts(long address, int count) {
        return copyBack(staging::download, address, new int[count], MemorySegment::ofArray);
    }

    /** {@code count} ints of sizes or status read back (a size read, not a download: see PinnedStaging#readSize). */
    int[] readSizeInts(long address, int count) {
        return copyBack(staging::readSize, address, new int[count], MemorySegment::ofArray);
    }

    long[] downloadLongs(long address, int count) {
        return copyBack(staging::download, address, new long[count], MemorySegment::ofArray);
    }

    float[] downloadFloats(long address, int count) {
        return copyBack(staging::download, address, new float[count], MemorySegment::ofArray);
    }

    /** A device-to-host copy through the staging: a download or a size read. */
    private interface CopyBack {
        void copy(long deviceAddress, MemorySegment target, long bytes, CUstream stream);
    }

    /** Fills the whole of {@code out} from {@code address} and returns it. */
    private <A> A copyBack(CopyBack copy, long address, A out, Function<A, MemorySegment> host) {
        MemorySegment target = host.apply(out);
        copy.copy(address, target, target.byteSize(), stream);
        return out;
    }

    private long upload(MemorySegment host) {
        long address = acquire(host.byteSize());
        staging.upload(host, address, host.byteSize(), stream);
        return address;
    }

    @Override
    public void close() {
        blocks.forEach(pool::release);
        blocks.clear();
    }
}
