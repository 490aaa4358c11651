package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DeviceArray;

/**
 * The whole-row copies of gatherRows and scatterRows: output row {@code r} takes source row {@code source[r]}, or,
 * where that is -1, the pass-through's row {@code r} (scatter) or zeros. {@link #copy} serves any range of output
 * rows, so the reference backend runs all of them at once and the serving backend in fixed chunks on its threads.
 * Every entry of the row map is checked to be -1 or a row of its source before anything is copied.
 */
final class RowCopies {
    private final int[] source;
    private final MemorySegment from;
    private final long fromOffset;
    private final MemorySegment pass;
    private final long passOffset;
    private final MemorySegment to;
    private final long toOffset;
    private final long rowBytes;
    /** Scattering in place: the pass-through rows are already where they belong. */
    private final boolean keepUnkept;

    private RowCopies(int[] source, DeviceArray from, DeviceArray pass, DeviceArray to, String call) {
        this.source = source;
        this.from = segment(from, call);
        this.fromOffset = from.byteOffset();
        boolean inPlace = pass != null && pass.buffer() == to.buffer() && pass.byteOffset() == to.byteOffset();
        this.pass = pass == null || inPlace ? null : segment(pass, call);
        this.passOffset = pass == null ? 0 : pass.byteOffset();
        this.to = segment(to, call);
        this.toOffset = to.byteOffset();
        long rows = to.shape().dim(0);
        this.rowBytes = rows == 0 ? 0 : to.byteSize() / rows;
        this.keepUnkept = inPlace;
    }

    /** Row {@code j} of {@code out} is row {@code keptIndex[j]} of {@code x}; zeros where that is -1. */
    static RowCopies gather(DeviceArray x, TokenSelection selection, DeviceArray out) {
        String call = "gatherRows";
        return new RowCopies(CpuTokenSelection.readRowMap(selection.keptIndex(), "keptIndex", selection.rows(), call), x,
                null, out, call);
    }

    /** Row {@code r} of {@code out} is row {@code slotOf[r]} of {@code kept}; else passThrough's row r, or zeros. */
    static RowCopies scatter(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
        String call = "scatterRows";
        return new RowCopies(CpuTokenSelection.readRowMap(selection.slotOf(), "slotOf", selection.capacity(), call),
                kept, passThrough, out, call);
    }

    /** Output rows to write. */
    int rows() {
        return source.length;
    }

    /** Writes output rows {@code [first, end)}. */
    void copy(int first, int end) {
        for (int r = first; r < end; r++) {
            long target = toOffset + r * rowBytes;
            if (source[r] >= 0) {
                MemorySegment.copy(from, fromOffset + source[r] * rowBytes, to, target, rowBytes);
            } else if (pass != null) {
                MemorySegment.copy(pass, passOffset + r * rowBytes, to, target, rowBytes);
            } else if (!keepUnkept) {
                to.asSlice(target, rowBytes).fill((byte) 0);
            }
        }
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}
