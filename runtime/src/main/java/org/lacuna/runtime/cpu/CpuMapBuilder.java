package org.lacuna.runtime.cpu;

import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.MapTables;

/**
 * The serving CPU backend's kernel-map builder: every table of {@link MapTables} in two parallel passes over fixed
 * chunks of output rows on the backend's threads. The first queries each row's neighbours in the input set's hash
 * index, writing the neighbour table and bitmasks and counting pairs per (chunk, offset); a prefix sum over those
 * counts, offset-major, gives every chunk its place in each offset's pair list; the second pass writes the pairs.
 * Chunks write disjoint places, so the result is the reference's ({@link MapTables#fromNeighbours} over
 * {@link CoordinateSet#queryNeighbours}) bit for bit, whatever the thread count.
 */
final class CpuMapBuilder {
    /** Output rows per chunk: enough work to amortise a task, small enough for many chunks. */
    private static final int CHUNK_ROWS = 2048;

    private CpuMapBuilder() {
    }

    static MapTables build(CpuThreads threads, CoordinateSet inputs, CoordinateSet outputs, ConvGeometry geometry) {
        int volume = geometry.volume();
        int[] deltas = geometry.deltas(inputs.tensorStride());
        int rows = outputs.size();
        int words = (volume + 63) >>> 6;
        int[] neighbours = MapTables.neighbourTable(rows, volume, "buildMapTables");
        long[] masks = new long[Math.multiplyExact(rows, words)];
        int chunks = CpuThreads.chunks(rows, CHUNK_ROWS);
        int[] counts = new int[Math.multiplyExact(chunks, volume)];
        threads.forEach(chunks, chunk -> {
            int end = Math.min(rows, (chunk + 1) * CHUNK_ROWS);
            int countAt = chunk * volume;
            for (int row = chunk * CHUNK_ROWS; row < end; row++) {
                int base = row * volume;
                inputs.findNeighbours(outputs.key(row), deltas, neighbours, base);
                for (int v = 0; v < volume; v++) {
                    if (neighbours[base + v] >= 0) {
                        counts[countAt + v]++;
                        masks[row * words + (v >>> 6)] |= 1L << (v & 63);
                    }
                }
            }
        });
        // Offset-major, then chunk order: chunk c's pairs of offset v start after every earlier chunk's.
        long[] pairStart = new long[volume + 1];
        int[] chunkStart = new int[counts.length];
        int running = 0;
        for (int v = 0; v < volume; v++) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                chunkStart[chunk * volume + v] = running;
                running = Math.addExact(running, counts[chunk * volume + v]);
            }
            pairStart[v + 1] = running;
        }
        int[] pairInputs = new int[running];
        int[] pairOutputs = new int[running];
        threads.forEach(chunks, chunk -> {
            int end = Math.min(rows, (chunk + 1) * CHUNK_ROWS);
            int[] next = java.util.Arrays.copyOfRange(chunkStart, chunk * volume, (chunk + 1) * volume);
            for (int row = chunk * CHUNK_ROWS; row < end; row++) {
                int base = row * volume;
                for (int v = 0; v < volume; v++) {
                    int in = neighbours[base + v];
                    if (in >= 0) {
                        int at = next[v]++;
                        pairInputs[at] = in;
                        pairOutputs[at] = row;
                    }
                }
            }
        });
        return new MapTables(volume, neighbours, masks, pairStart, pairInputs, pairOutputs);
    }
}
