package org.lacuna.runtime.sparseconv;

import org.lacuna.runtime.error.InvalidInputException;

/**
 * Which input row meets which output row through which kernel offset, in the two forms the dataflows need:
 * output-stationary (for each output row and offset, the input row or -1: {@link #neighbour}, with one bit per
 * offset in {@link #maskWords}) and offset-major pair lists (for each offset, its (input, output) pairs in output
 * order: {@link #pairStart}, {@link #pairInputs}, {@link #pairOutputs}). Immutable; built by
 * {@link CoordinateSet#kernelMap}. Row indices are ints (a set holds fewer than 2^31 rows); every position derived
 * from them (row × volume, row × channels, pair counts) is a long.
 */
public final class KernelMap {
    private final ConvGeometry geometry;
    private final CoordinateSet inputs;
    private final CoordinateSet outputs;
    private final int[] neighbours;
    private final long[] masks;
    private final int maskWords;
    private final long[] pairStart;
    private final int[] pairInputs;
    private final int[] pairOutputs;
    private volatile MapStatistics statistics;

    /**
     * The map of {@code geometry} from {@code inputs} to {@code outputs} given its [outputs, volume] neighbour table
     * (taken over, not copied): the host map builder's constructor. Layers get maps from
     * {@link CoordinateSet#kernelMap}, which caches them.
     */
    public static KernelMap of(ConvGeometry geometry, CoordinateSet inputs, CoordinateSet outputs, int[] neighbours) {
        if ((long) outputs.size() * geometry.volume() != neighbours.length) {
            throw InvalidInputException.shape("KernelMap.of", neighbours.length + " neighbour entries for "
                    + outputs.size() + " outputs × " + geometry.volume() + " offsets");
        }
        return new KernelMap(geometry, inputs, outputs, neighbours);
    }

    private KernelMap(ConvGeometry geometry, CoordinateSet inputs, CoordinateSet outputs, int[] neighbours) {
        this.geometry = geometry;
        this.inputs = inputs;
        this.outputs = outputs;
        MapTables tables = MapTables.fromNeighbours(neighbours, geometry.volume());
        this.neighbours = tables.neighbours();
        this.maskWords = wordsFor(geometry.volume());
        this.masks = tables.masks();
        this.pairStart = tables.pairStart();
        this.pairInputs = tables.pairInputs();
        this.pairOutputs = tables.pairOutputs();
    }

    /** Copies of every array, to compare with a device builder's result. */
    public MapTables tables() {
        return new MapTables(volume(), neighbours.clone(), masks.clone(), pairStart.clone(), pairInputs.clone(),
                pairOutputs.clone());
    }

    /**
     * The map's own arrays, not copies: read-only, for the CPU backends that hold them as their resident tables
     * ({@link ResidentKernelMap}) and read them in place.
     */
    public MapTables sharedTables() {
        return new MapTables(volume(), neighbours, masks, pairStart, pairInputs, pairOutputs);
    }

    static int wordsFor(int volume) {
        return (volume + 63) >>> 6;
    }

    public ConvGeometry geometry() {
        return geometry;
    }

    public CoordinateSet inputs() {
        return inputs;
    }

    public CoordinateSet outputs() {
        return outputs;
    }

    public int volume() {
        return geometry.volume();
    }

    public int inputCount() {
        return inputs.size();
    }

    public int outputCount() {
        return outputs.size();
    }

    /** The input row that reaches output {@code row} through {@code offset}, or -1. */
    public int neighbour(int row, int offset) {
        return neighbours[(int) ((long) row * volume() + offset)];
    }

    /** A copy of the [outputs, volume] neighbour table, the implicit GEMM's input. */
    public int[] neighbourTable() {
        return neighbours.clone();
    }

    /** 64-bit words per row in {@link #masks()}: bit v of row r is offset v reaching r. */
    public int maskWords() {
        return maskWords;
    }

    public long mask(int row, int word) {
        return masks[row * maskWords + word];
    }

    /** A copy of the [outputs, maskWords] bitmasks. */
    public long[] masks() {
        return masks.clone();
    }

    /** Pairs of offset {@code v} are {@code [pairStart(v), pairStart(v + 1))}. */
    public long pairStart(int offset) {
        return pairStart[offset];
    }

    public long pairCount(int offset) {
        return pairStart[offset + 1] - pairStart[offset];
    }

    public long totalPairs() {
        return pairStart[volume()];
    }

    public int pairInput(long pair) {
        return pairInputs[Math.toIntExact(pair)];
    }

    public int pairOutput(long pair) {
        return pairOutputs[Math.toIntExact(pair)];
    }

    /** Copies for upload: inputs and outputs of every pair, offset-major. */
    public int[] pairInputs() {
        return pairInputs.clone();
    }

    public int[] pairOutputs() {
        return pairOutputs.clone();
    }

    public long[] pairStarts() {
        return pairStart.clone();
    }

    /** Pairs per offset, average neighbours and tile redundancy; computed once. */
    public MapStatistics statistics() {
        MapStatistics s = statistics;
        if (s == null) {
            s = new MapStatistics(this);
            statistics = s;
        }
        return s;
    }

    @Override
    public String toString() {
        return "KernelMap[" + geometry + ", " + inputs.size() + " -> " + outputs.size() + " rows, "
                + totalPairs() + " pairs]";
    }
}
