package org.lacuna.runtime.internal.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
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
        int[] out = new int[count];
        staging.download(address, MemorySegment.ofArray(out), (long) count * Integer.BYTES, stream);
        return out;
    }

    /** {@code count} ints of sizes or status read back (a size read, not a download: see PinnedStaging#readSize). */
    int[] readSizeInts(long address, int count) {
        int[] out = new int[count];
        staging.readSize(address, MemorySegment.ofArray(out), (long) count * Integer.BYTES, stream);
        return out;
    }

    long[] downloadLongs(long address, int count) {
        long[] out = new long[count];
        staging.download(address, MemorySegment.ofArray(out), (long) count * Long.BYTES, stream);
        return out;
    }

    float[] downloadFloats(long address, int count) {
        float[] out = new float[count];
        staging.download(address, MemorySegment.ofArray(out), (long) count * Float.BYTES, stream);
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
