package org.lacuna.runtime.cpu;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.data.Shape;

/**
 * The serving forms of weights (a dense weight widened to fp32; a sparse weight's fp32 values and decoded positions),
 * made on first use of a weight and kept while its buffers stay open and unchanged, so a layer pays the conversion
 * once, as it pays the upload once.
 *
 * <p>A weight is known by the identity of its buffers, the offsets, types and shapes of its arrays, and each buffer's
 * {@link CpuBuffer#generation}: an upload, a fill or an op that may write the buffer moves it, and the next lookup
 * converts afresh. The conversion must therefore read through {@link CpuBuffer#readSegment}. A buffer that is closed
 * drops its entries, and the map holds buffers weakly, so forgotten weights do not stay reachable through it.
 */
final class WeightFormCache {
    private final Map<DeviceBuffer, List<Entry>> entries = new WeakHashMap<>();

    /** The cached form for these arrays, or the one {@code convert} makes (and which is then kept). */
    synchronized <T> T get(Class<T> type, int out, int in, Supplier<T> convert, DeviceArray... arrays) {
        DeviceBuffer key = arrays[0].buffer();
        List<Entry> list = entries.get(key);
        if (list != null) {
            for (Entry entry : list) {
                if (type.isInstance(entry.form) && entry.out == out && entry.in == in && entry.matches(arrays)) {
                    return type.cast(entry.form);
                }
            }
        }
        dropStale();
        Entry entry = new Entry(arrays, out, in); // the generations before the conversion reads the arrays
        T form = convert.get();
        entry.form = form;
        entries.computeIfAbsent(key, k -> new ArrayList<>(1)).add(entry);
        return form;
    }

    /** Forgets every form (the ops holding this cache close: their weights' copies go with them). */
    synchronized void clear() {
        entries.clear();
    }

    /** Weights cached now; for tests that check a weight is converted once. */
    synchronized int size() {
        return entries.values().stream().mapToInt(List::size).sum();
    }

    /** Drops entries whose buffers closed or changed: a changed weight's old form can never match again. */
    private void dropStale() {
        entries.values().forEach(list -> list.removeIf(Entry::isStale));
        entries.values().removeIf(List::isEmpty);
    }

    private static final class Entry {
        private final List<WeakReference<DeviceBuffer>> buffers = new ArrayList<>();
        private final List<Layout> layouts = new ArrayList<>();
        private final long[] generations;
        private final int out;
        private final int in;
        private Object form;

        Entry(DeviceArray[] arrays, int out, int in) {
            generations = new long[arrays.length];
            for (int i = 0; i < arrays.length; i++) {
                DeviceArray array = arrays[i];
                buffers.add(new WeakReference<>(array.buffer()));
                layouts.add(new Layout(array.byteOffset(), array.dtype(), array.shape()));
                generations[i] = ((CpuBuffer) array.buffer()).generation();
            }
            this.out = out;
            this.in = in;
        }

        boolean matches(DeviceArray[] arrays) {
            if (arrays.length != buffers.size()) {
                return false;
            }
            for (int i = 0; i < arrays.length; i++) {
                if (buffers.get(i).get() != arrays[i].buffer() || !layouts.get(i).describes(arrays[i])) {
                    return false;
                }
            }
            return !isStale();
        }

        boolean isStale() {
            for (int i = 0; i < buffers.size(); i++) {
                DeviceBuffer buffer = buffers.get(i).get();
                if (buffer == null || buffer.isClosed() || ((CpuBuffer) buffer).generation() != generations[i]) {
                    return true;
                }
            }
            return false;
        }

        /** Where an array sits in its buffer and what it holds: compared field by field on every lookup. */
        private record Layout(long byteOffset, DType dtype, Shape shape) {
            boolean describes(DeviceArray array) {
                return byteOffset == array.byteOffset() && dtype == array.dtype() && shape.equals(array.shape());
            }
        }
    }
}
