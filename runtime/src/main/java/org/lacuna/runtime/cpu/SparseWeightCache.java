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
 * The serving forms of sparse weights (fp32 values, decoded positions), made on first use of a weight and kept while
 * its buffers stay open, so a layer pays the conversion once, as it pays the upload once.
 *
 * <p>A weight is known by the identity of its buffers and the offsets, types and shapes of its arrays. Weights are
 * built once at load time and never rewritten in place; a buffer that is closed drops its entries, and the map holds
 * buffers weakly, so forgotten weights do not stay reachable through it.
 */
final class SparseWeightCache {
    private final Map<DeviceBuffer, List<Entry>> entries = new WeakHashMap<>();

    /** The cached form for these arrays, or the one {@code convert} makes (and which is then kept). */
    synchronized <T> T get(Class<T> type, int out, int in, Supplier<T> convert, DeviceArray... arrays) {
        DeviceBuffer key = arrays[0].buffer();
        for (Entry entry : entries.getOrDefault(key, List.of())) {
            if (type.isInstance(entry.form) && entry.out == out && entry.in == in && entry.matches(arrays)) {
                return type.cast(entry.form);
            }
        }
        dropClosed();
        T form = convert.get();
        entries.computeIfAbsent(key, k -> new ArrayList<>(1)).add(new Entry(arrays, out, in, form));
        return form;
    }

    /** Weights cached now; for tests that check a weight is converted once. */
    synchronized int size() {
        return entries.values().stream().mapToInt(List::size).sum();
    }

    private void dropClosed() {
        entries.values().forEach(list -> list.removeIf(Entry::isStale));
        entries.values().removeIf(List::isEmpty);
    }

    private static final class Entry {
        private final List<WeakReference<DeviceBuffer>> buffers = new ArrayList<>();
        private final List<Layout> layouts = new ArrayList<>();
        private final int out;
        private final int in;
        private final Object form;

        Entry(DeviceArray[] arrays, int out, int in, Object form) {
            for (DeviceArray array : arrays) {
                buffers.add(new WeakReference<>(array.buffer()));
                layouts.add(new Layout(array.byteOffset(), array.dtype(), array.shape()));
            }
            this.out = out;
            this.in = in;
            this.form = form;
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
            for (WeakReference<DeviceBuffer> reference : buffers) {
                DeviceBuffer buffer = reference.get();
                if (buffer == null || buffer.isClosed()) {
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
