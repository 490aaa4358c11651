package org.lacuna.runtime.cpu;

import org.lacuna.runtime.NotSupportedException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
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
        long cells = (long) rows * volume;
        if (cells > Integer.MAX_VALUE - 8) {
            throw new NotSupportedException("buildMapTables", rows + " outputs × " + volume + " offsets exceed the "
                    + "host map's 2^31-entry table");
        }
        int words = (volume + 63) >>> 6;
        int[] neighbours = new int[(int) cells];
        long[] masks = new long[Math.multiplyExact(rows, words)];
        int chunks = CpuThreads.chunks(rows, CHUNK_ROWS);
        int[] counts = new int[Math.multiplyExact(chunks, volume)];
        threads.forEach(chunks, chunk -> {
            int end = Math.min(rows, (chunk + 1) * CHUNK_ROWS);
            int countAt = chunk * volume;
            for (int row = chunk * CHUNK_ROWS; row < end; row++) {
                long key = outputs.key(row);
                int b = CoordinateKey.batch(key);
                int x = CoordinateKey.x(key);
                int y = CoordinateKey.y(key);
                int z = CoordinateKey.z(key);
                int base = row * volume;
                for (int v = 0; v < volume; v++) {
                    long nx = (long) x + deltas[3 * v];
                    long ny = (long) y + deltas[3 * v + 1];
                    long nz = (long) z + deltas[3 * v + 2];
                    int found = -1;
                    if (CoordinateKey.fitsCoordinate(nx) && CoordinateKey.fitsCoordinate(ny)
                            && CoordinateKey.fitsCoordinate(nz)) {
                        found = inputs.find(CoordinateKey.pack(b, (int) nx, (int) ny, (int) nz));
                    }
                    neighbours[base + v] = found;
                    if (found >= 0) {
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
