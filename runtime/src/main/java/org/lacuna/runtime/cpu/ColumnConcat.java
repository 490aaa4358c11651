package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DeviceArray;

/**
 * The row copies of concatColumns, {@code y[r] = [a[r] | b[r]]} as raw bytes: any range of rows at a time, so the
 * reference runs all rows at once and the serving backend fixed chunks on its threads.
 */
final class ColumnConcat {
    private final MemorySegment a;
    private final MemorySegment b;
    private final MemorySegment y;
    private final long aOffset;
    private final long bOffset;
    private final long yOffset;
    private final long aRowBytes;
    private final long bRowBytes;

    ColumnConcat(DeviceArray a, DeviceArray b, DeviceArray y) {
        String call = "concatColumns";
        this.a = ((CpuBuffer) a.buffer()).segment(call);
        this.b = ((CpuBuffer) b.buffer()).segment(call);
        this.y = ((CpuBuffer) y.buffer()).segment(call);
        this.aOffset = a.byteOffset();
        this.bOffset = b.byteOffset();
        this.yOffset = y.byteOffset();
        this.aRowBytes = a.shape().dim(1) * a.dtype().byteSize();
        this.bRowBytes = b.shape().dim(1) * b.dtype().byteSize();
    }

    /** Writes rows {@code [first, end)} of y. */
    void copy(long first, long end) {
        long rowBytes = aRowBytes + bRowBytes;
        for (long r = first; r < end; r++) {
            long target = yOffset + r * rowBytes;
            MemorySegment.copy(a, aOffset + r * aRowBytes, y, target, aRowBytes);
            MemorySegment.copy(b, bOffset + r * bRowBytes, y, target + aRowBytes, bRowBytes);
        }
    }
}
