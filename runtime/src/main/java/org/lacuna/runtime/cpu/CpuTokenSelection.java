package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.lacuna.runtime.attention.Granularity;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.cpu.kernels.HalfConversions;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * The reference token selection, written for clarity: per sequence, sort the unpinned items by score (ties by
 * position) and take the first ones. Window means are fp32 sums in position order divided by the count, exactly as
 * the kernel computes them, so CPU and GPU rank identically.
 */
final class CpuTokenSelection {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

    private CpuTokenSelection() {
    }

    /** An item: a token or a window, its score key, whether it is pinned, and the positions it covers. */
    private record Item(int key, boolean pinned, int[] positions) {
    }

    /** Selects per sequence, the sequences ranked in parallel on {@code threads} (each one's choice is its own). */
    static void select(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                       TokenSelection out, CpuThreads threads) {
        String call = "selectTokens";
        int[] offsets = ReferenceAttention.offsets(call, batch);
        float[] score = readFloats(scores, call);
        int[] mask = pinMask == null ? null : readInts(pinMask, call);
        for (int b = 0; b < batch.batch(); b++) {
            for (int r = offsets[b]; r < offsets[b + 1]; r++) {
                if (Float.isNaN(score[r])) {
                    writeStatus(out, r, 0);
                    throw InvalidInputException.argument(call, "the score of row " + r + " (sequence " + b + ") is NaN");
                }
            }
        }
        List<List<Integer>> perSequence = new ArrayList<>(java.util.Collections.nCopies(batch.batch(), null));
        threads.forEach(batch.batch(), b -> {
            List<Integer> rows = new ArrayList<>();
            keep(score, mask, offsets[b], offsets[b + 1] - offsets[b], rule, rows);
            perSequence.set(b, rows);
        });
        List<Integer> kept = new ArrayList<>();
        int[] counts = new int[batch.batch()];
        for (int b = 0; b < batch.batch(); b++) {
            kept.addAll(perSequence.get(b));
            counts[b] = perSequence.get(b).size();
        }
        if (kept.size() > out.capacity()) {
            throw new IllegalStateException("kept " + kept.size() + " tokens, more than the capacity " + out.capacity()
                    + " that SelectionRule.capacity guarantees");
        }
        int[] keptIndex = new int[Math.toIntExact(out.capacity())];
        Arrays.fill(keptIndex, -1);
        int[] slotOf = new int[Math.toIntExact(out.rows())];
        Arrays.fill(slotOf, -1);
        for (int j = 0; j < kept.size(); j++) {
            keptIndex[j] = kept.get(j);
            slotOf[kept.get(j)] = j;
        }
        int[] keptOffsets = new int[batch.batch() + 1];
        for (int b = 0; b < counts.length; b++) {
            keptOffsets[b + 1] = keptOffsets[b] + counts[b];
        }
        writeInts(out.keptIndex(), keptIndex, call);
        writeInts(out.slotOf(), slotOf, call);
        writeInts(out.keptCounts(), counts, call);
        writeInts(out.keptOffsets(), keptOffsets, call);
        writeStatus(out, -1, 0);
    }

    /** Appends the rows sequence [start, start + length) keeps, in order. */
    private static void keep(float[] score, int[] mask, int start, int length, SelectionRule rule, List<Integer> kept) {
        int prefix = Math.min(rule.pinnedPrefix(), length);
        List<Item> items = new ArrayList<>();
        boolean[] keepPosition = new boolean[length];
        switch (rule.granularity()) {
            case Granularity.Tokens ignored -> {
                for (int p = 0; p < length; p++) {
                    boolean pinned = p < prefix || (mask != null && mask[start + p] != 0);
                    items.add(new Item(orderKey(score[start + p]), pinned, new int[] {p}));
                }
            }
            case Granularity.Windows w -> {
                for (int p = 0; p < prefix; p++) {
                    keepPosition[p] = true;
                }
                int gridTokens = length - prefix;
                int windows = w.windowsFor(gridTokens);
                List<List<Integer>> members = new ArrayList<>();
                for (int i = 0; i < windows; i++) {
                    members.add(new ArrayList<>());
                }
                for (int gp = 0; gp < gridTokens; gp++) {
                    members.get(w.windowOf(gp)).add(prefix + gp);
                }
                for (List<Integer> window : members) {
                    // In position order, the order the kernel adds them in.
                    int[] positions = window.stream().mapToInt(Integer::intValue).toArray();
                    float sum = 0f;
                    boolean pinned = false;
                    for (int p : positions) {
                        sum += score[start + p];
                        pinned |= mask != null && mask[start + p] != 0;
                    }
                    items.add(new Item(orderKey(sum / positions.length), pinned, positions));
                }
            }
        }
        int pinnedCount = 0;
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i).pinned()) {
                pinnedCount++;
            } else {
                free.add(i);
            }
        }
        boolean[] keepItem = new boolean[items.size()];
        for (int i = 0; i < items.size(); i++) {
            keepItem[i] = items.get(i).pinned();
        }
        switch (rule.budget()) {
            case SelectionRule.Threshold t -> {
                for (int i : free) {
                    keepItem[i] = keyValue(items.get(i).key()) >= t.threshold();
                }
            }
            case SelectionRule.KeepRatio r -> {
                long take = Math.max(0, Math.min(free.size(), r.keep(items.size()) - pinnedCount));
                // One primitive sort: the key in the high half (sign-flipped so signed order is unsigned order),
                // the complemented item index in the low half, so among equal keys the earlier item ranks higher.
                long[] ranked = new long[free.size()];
                for (int f = 0; f < ranked.length; f++) {
                    int item = free.get(f);
                    ranked[f] = ((long) (items.get(item).key() ^ Integer.MIN_VALUE) << 32) | (0xFFFFFFFFL - item);
                }
                Arrays.sort(ranked);
                for (int t = 0; t < take; t++) {
                    keepItem[(int) (0xFFFFFFFFL - (ranked[ranked.length - 1 - t] & 0xFFFFFFFFL))] = true;
                }
            }
        }
        for (int i = 0; i < items.size(); i++) {
            if (keepItem[i]) {
                for (int p : items.get(i).positions()) {
                    keepPosition[p] = true;
                }
            }
        }
        for (int p = 0; p < length; p++) {
            if (keepPosition[p]) {
                kept.add(start + p);
            }
        }
    }

    /** Order-preserving float → unsigned key (compare with {@link Integer#compareUnsigned}); NaN → 0, the lowest. */
    static int orderKey(float score) {
        if (Float.isNaN(score)) {
            return 0;
        }
        int bits = Float.floatToRawIntBits(score);
        return bits < 0 ? ~bits : bits | 0x80000000;
    }

    static float keyValue(int key) {
        return Float.intBitsToFloat(key < 0 ? key & 0x7fffffff : ~key);
    }

    private static void writeStatus(TokenSelection out, int nanRow, int overflow) {
        writeInts(out.workspace().status(), new int[] {nanRow, overflow}, "selectTokens");
    }

    static float[] readFloats(DeviceArray a, String call) {
        MemorySegment segment = ((CpuBuffer) a.buffer()).readSegment(call);
        float[] values = new float[Math.toIntExact(a.elementCount())];
        HalfConversions.widen(segment, a.byteOffset(), a.dtype(), values, 0, values.length);
        return values;
    }

    static int[] readInts(DeviceArray a, String call) {
        MemorySegment segment = ((CpuBuffer) a.buffer()).readSegment(call);
        int[] values = new int[Math.toIntExact(a.elementCount())];
        MemorySegment.copy(segment, I32, a.byteOffset(), values, 0, values.length);
        return values;
    }

    /**
     * Reads a selection's row map ({@code keptIndex} or {@code slotOf}) and checks every entry is a row of the
     * tensor it points into or -1 (no row): the map lives in device memory a caller may have written, and an entry
     * out of range would copy another tensor's bytes.
     */
    static int[] readRowMap(DeviceArray map, String name, long targetRows, String call) {
        int[] rows = readInts(map, call);
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < -1 || rows[i] >= targetRows) {
                throw InvalidInputException.argument(call, name + "[" + i + "] is " + rows[i]
                        + ", not -1 or a row in [0, " + targetRows + ")");
            }
        }
        return rows;
    }

    static void writeInts(DeviceArray a, int[] values, String call) {
        MemorySegment segment = ((CpuBuffer) a.buffer()).segment(call);
        MemorySegment.copy(values, 0, segment, I32, a.byteOffset(), values.length);
    }
}
