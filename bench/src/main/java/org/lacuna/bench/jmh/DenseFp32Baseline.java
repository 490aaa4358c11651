package org.lacuna.bench.jmh;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.DType;
import org.lacuna.runtime.cpu.kernels.TokenPanels;

/**
 * A dense fp32 linear layer {@code y = x · Wᵀ} on the Vector API, written for the sparse benchmarks only: the
 * yardstick the 2:4 and CSR kernels are measured against until the CPU backend's own dense GEMM lands. It is the
 * dense counterpart of the sparse kernels, with the register blocking a dense GEMM allows and a sparse one does not:
 * W packed once into panels of {@value #ROWS} rows, x packed per call into the same aligned token panels as the
 * sparse path, and a {@value #ROWS}×2-vector register tile in which each loaded x vector serves {@value #ROWS} rows.
 */
final class DenseFp32Baseline {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int TILE = 2 * LANES;
    static final int ROWS = 6;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private final int out;
    private final int in;
    private final float[] packedW;
    private final boolean parallel;
    /** x packed like the sparse path's panels, in 64-byte aligned native memory, kept between calls. */
    private MemorySegment panels;

    /**
     * Packs W[out, in] into [out/ROWS][in][ROWS], zero rows past {@code out}.
     *
     * @param parallel split the work over the common fork-join pool, else run on the caller's thread
     */
    DenseFp32Baseline(float[] w, int out, int in, boolean parallel) {
        this.out = out;
        this.in = in;
        this.parallel = parallel;
        int blocks = (out + ROWS - 1) / ROWS;
        packedW = new float[blocks * in * ROWS];
        for (int row = 0; row < out; row++) {
            for (int k = 0; k < in; k++) {
                packedW[((row / ROWS) * in + k) * ROWS + row % ROWS] = w[row * in + k];
            }
        }
    }

    /** y[tokens, out] = x[tokens, in] · Wᵀ. */
    void multiply(float[] x, int tokens, float[] y) {
        int tiles = TokenPanels.tiles(tokens, TILE);
        long bytes = Float.BYTES * TokenPanels.size(tokens, in, TILE);
        if (panels == null || panels.byteSize() < bytes) {
            panels = Arena.ofAuto().allocate(bytes, 64);
        }
        MemorySegment panels = this.panels;
        MemorySegment xs = MemorySegment.ofArray(x);
        range(tiles).forEach(t -> TokenPanels.pack(xs, 0, DType.F32, tokens, in, in, TILE, t,
                panels));
        int blocks = (out + ROWS - 1) / ROWS;
        int rowChunks = (blocks + 7) / 8;
        range(tiles * rowChunks).forEach(chunk -> {
            int tile = chunk / rowChunks;
            float[] c = new float[ROWS * TILE];
            for (int block = (chunk % rowChunks) * 8; block < Math.min(blocks, (chunk % rowChunks + 1) * 8); block++) {
                tile(block, panels, 4L * TokenPanels.offset(tile, in, TILE), c);
                for (int r = 0; r < ROWS && block * ROWS + r < out; r++) {
                    for (int t = 0; t < TILE && tile * TILE + t < tokens; t++) {
                        y[(tile * TILE + t) * out + block * ROWS + r] = c[r * TILE + t];
                    }
                }
            }
        });
    }

    private IntStream range(int count) {
        IntStream range = IntStream.range(0, count);
        return parallel ? range.parallel() : range;
    }

    private void tile(int block, MemorySegment panels, long panelOffset, float[] c) {
        FloatVector a00 = FloatVector.zero(SPECIES);
        FloatVector a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        int wBase = block * in * ROWS;
        for (int k = 0; k < in; k++) {
            FloatVector x0 = FloatVector.fromMemorySegment(SPECIES, panels, panelOffset + 4L * k * TILE, ORDER);
            FloatVector x1 = FloatVector.fromMemorySegment(SPECIES, panels, panelOffset + 4L * (k * TILE + LANES), ORDER);
            int w = wBase + k * ROWS;
            FloatVector v = FloatVector.broadcast(SPECIES, packedW[w]);
            a00 = v.fma(x0, a00);
            a01 = v.fma(x1, a01);
            v = FloatVector.broadcast(SPECIES, packedW[w + 1]);
            a10 = v.fma(x0, a10);
            a11 = v.fma(x1, a11);
            v = FloatVector.broadcast(SPECIES, packedW[w + 2]);
            a20 = v.fma(x0, a20);
            a21 = v.fma(x1, a21);
            v = FloatVector.broadcast(SPECIES, packedW[w + 3]);
            a30 = v.fma(x0, a30);
            a31 = v.fma(x1, a31);
            v = FloatVector.broadcast(SPECIES, packedW[w + 4]);
            a40 = v.fma(x0, a40);
            a41 = v.fma(x1, a41);
            v = FloatVector.broadcast(SPECIES, packedW[w + 5]);
            a50 = v.fma(x0, a50);
            a51 = v.fma(x1, a51);
        }
        a00.intoArray(c, 0);
        a01.intoArray(c, LANES);
        a10.intoArray(c, TILE);
        a11.intoArray(c, TILE + LANES);
        a20.intoArray(c, 2 * TILE);
        a21.intoArray(c, 2 * TILE + LANES);
        a30.intoArray(c, 3 * TILE);
        a31.intoArray(c, 3 * TILE + LANES);
        a40.intoArray(c, 4 * TILE);
        a41.intoArray(c, 4 * TILE + LANES);
        a50.intoArray(c, 5 * TILE);
        a51.intoArray(c, 5 * TILE + LANES);
    }
}
