package org.lacuna.runtime.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.lacuna.runtime.data.DType;

/**
 * The sparse tiles on the Vector API. One weight row is worked against a tile of eight token vectors (eight
 * independent accumulator chains), or two rows against one token vector when a call has too few tokens to fill
 * eight. Each stored weight value is broadcast once and multiplied into every token vector of its row, which spreads
 * reading the value and decoding its position over eight multiply-adds (measured on AVX-512: about 5-10% faster than
 * two rows of four token vectors; more rows do not cut loads, as every multiply-add still loads its own x vector).
 * That load is the ceiling: on the project's 2-core AVX-512 Xeon, a multiply-add that loads its x vector from L1
 * runs at about 55% of the register-only rate (a 12-chain loop on one core: 130 against 236 GFLOP/s), and the 2:4
 * body, with its two value broadcasts and nibble (19 loads per 16 multiply-adds), reaches about 100 GFLOP/s of kept
 * products on one core. Other row blocks (16-128 rows) or passes (24-32 KiB) measured within noise of it, and an x
 * panel kept hot in L1 on purpose gained 5%, so the panel does not stream from L2; sixteen accumulators (two rows,
 * or split chains for the two kept values) gained at most 5-8%, not worth the C1 failure below. On AMD Zen 4
 * (AVX-512 as two 256-bit halves, one 512-bit load a cycle) the load bounds it as well: the body with one x vector
 * per group instead of two, the same sixteen multiply-adds, ran at 100 against 75 GFLOP/s (ad hoc, one core, panel
 * and weights in L1; a diagnostic, not a kernel).
 * Panels are read from 64-byte aligned native memory: measured on AVX-512, unaligned heap loads cost
 * about a third of the speed. Loads go through a slice of the panel per 2:4 group (per CSR entry) whose length is a
 * constant: the JIT then proves every load in bounds from the 2-bit position's range, one check per slice instead of
 * one per load (about a quarter of the kernel's time). A 2:4 tile reads each column block of its pass as one
 * sequential stream, the block's rows one after the other ({@link TwoFourMatrix}): on AMD Zen 4 (32 KiB L1, 1 MiB L2) reading each
 * row's part of a pass a whole weight row from the last cost a quarter of the kernel's speed (ad hoc, one core: 57
 * against 78 GFLOP/s of kept products with the weights held in L1). The 32 KiB pass still measured best there (ad
 * hoc, one core, all of a 512-token call): a call per row and pass costs about 60 cycles besides its multiply-adds
 * (its accumulators in and out, the loop's entry), so passes of 8 or 12 groups ran 3-17% slower, and 32 groups,
 * twice that L1, 9-15% slower (24 groups only matched 16 with the weights and sums held in L1); a loop over the rows
 * inside one call gained nothing, and two rows of four token vectors over 32-group passes (one call per 512
 * multiply-adds) ran 2-10% slower than one row of eight.
 *
 * <p>Packing and unpacking transpose whole 16 × 16 blocks in registers ({@link VectorTransposeTile}: single-source
 * lane permutations and blends, four butterfly stages) and gather only the ragged edges: x is widened a block of
 * {@value #PACK_COLUMNS} columns at a time into a token-major scratch, then transposed into the panel, so every panel
 * store is one aligned vector; results are transposed row-to-token the same way, 16 tokens by every 16 rows. Both
 * were scalar strided loops first, which cost as much as the multiply-adds at 5-10% CSR density, then gathers of 16
 * lanes; a 16 × 16 transpose through the two-vector {@code rearrange} or {@code selectFrom} ran 10-20 times slower
 * than the gathers on JDK 25, but the single-source form measured about twice as fast as the gathers when unpacking
 * a 128 × 128 tile straight after the tile's multiply-adds (0.43 against 0.79 ms for a 512 × 3072 y into a
 * cache-resident target, one core), and 3-12% faster end to end on one core with y's 6 MiB written through memory,
 * which is most of the unpack's remaining time.
 *
 * <p>The tile bodies live in {@link VectorSparseRowTiles}, generated at build time (into
 * {@code runtime/target/generated-sources/microkernels}) by its emitter
 * {@code codegen/src/org/lacuna/codegen/VectorSparseRowTiles.java}: they are written out, as the JIT keeps named
 * vectors in registers, not arrays of them. They are kept small on purpose: a four-row body overflowed C1's register
 * allocator at the profiling tier, which left the method in C1 code that does not intrinsify the Vector API, about 70
 * times slower; two rows of eight token vectors (sixteen accumulators) did the same under load (tier 2 compiled it,
 * tier 3 bailed out, C2 never came: 100 times slower), although C2 ran it 10% faster than one row. The failure is
 * C1's "out of virtual registers in linear scan" at tier 3, shown without any load by
 * {@code -XX:TieredStopAtLevel=3 -XX:+PrintCompilation} (COMPILE SKIPPED): check a larger body that way before
 * trusting its timings. Loaded only when {@code jdk.incubator.vector} is present.
 */
final class VectorSparseTiles implements SparseTiles {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** The wide tile: {@link VectorSparseRowTiles#WIDE_VECTORS} (eight) vectors of tokens. */
    static final int WIDE = VectorSparseRowTiles.WIDE_VECTORS * LANES;
    /**
     * Columns of x widened per block while packing: long runs per widening call (256 measured 2-3% faster end to end
     * than 64 at 512 tokens), widened staged although shorter than the lanes' cut-off
     * ({@link VectorHalfConversions#widenStaged}); the scratch, 128 KiB at 128 tokens, stays in L2.
     */
    static final int PACK_COLUMNS = 256;
    /** Each thread's token-major scratch of the packing, kept from call to call. */
    private static final ThreadLocal<float[]> PACK_SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    /** Gather offsets one lane apart in a token-major scratch of {@link #PACK_COLUMNS} columns. */
    private static final int[] PACK_GATHER = strided(PACK_COLUMNS);
    /** Gather offsets one lane apart in c of a wide or a narrow tile. */
    private static final int[] WIDE_GATHER = strided(WIDE);
    private static final int[] NARROW_GATHER = strided(LANES);
    /**
     * Whether packing and unpacking move whole 16 × 16 blocks through {@link VectorTransposeTile} (vectors of 16
     * lanes), and gather only what is left at the edges.
     */
    private static final boolean TRANSPOSE = LANES == VectorTransposeTile.SIZE;

    private VectorSparseTiles() {
    }

    static SparseTiles create() {
        return new VectorSparseTiles();
    }

    private static int[] strided(int stride) {
        int[] map = new int[LANES];
        for (int i = 0; i < LANES; i++) {
            map[i] = i * stride;
        }
        return map;
    }

    /** The wide tile once it wastes no more than the narrow one costs extra: above half a wide tile of tokens. */
    @Override
    public int tileTokens(int tokens) {
        return tokens > WIDE / 2 ? WIDE : LANES;
    }

    @Override
    public void pack(MemorySegment x, long byteOffset, DType dtype, int tokens, int in, int paddedIn, int tileTokens,
                     int tile, MemorySegment panels) {
        if (tileTokens % LANES != 0) { // not a width of this class: gathers would run past the tile
            TokenPanels.pack(x, byteOffset, dtype, tokens, in, paddedIn, tileTokens, tile, panels);
            return;
        }
        long base = TokenPanels.offset(tile, paddedIn, tileTokens);
        int token0 = tile * tileTokens;
        int count = Math.min(tileTokens, tokens - token0);
        float[] scratch = PACK_SCRATCH.get();
        if (scratch.length < tileTokens * PACK_COLUMNS) {
            scratch = new float[tileTokens * PACK_COLUMNS];
            PACK_SCRATCH.set(scratch);
        }
        for (int k0 = 0; k0 < in; k0 += PACK_COLUMNS) {
            int columns = Math.min(PACK_COLUMNS, in - k0);
            for (int t = 0; t < count; t++) {
                long source = byteOffset + ((long) (token0 + t) * in + k0) * dtype.byteSize();
                VectorHalfConversions.widenStaged(x, source, dtype, scratch, t * PACK_COLUMNS, columns);
            }
            if (count < tileTokens && k0 == 0) {
                // padding tokens stay zero (the scratch is kept from call to call: clear it here)
                Arrays.fill(scratch, count * PACK_COLUMNS, tileTokens * PACK_COLUMNS, 0f);
            }
            int transposed = TRANSPOSE ? columns - columns % LANES : 0;
            for (int k = 0; k < transposed; k += LANES) {
                long target = 4 * (base + (long) (k0 + k) * tileTokens);
                for (int t = 0; t < tileTokens; t += LANES) {
                    VectorTransposeTile.transpose(scratch, t * PACK_COLUMNS + k, PACK_COLUMNS, panels, target + 4L * t,
                            4L * tileTokens);
                }
            }
            for (int k = transposed; k < columns; k++) {
                long target = 4 * (base + (long) (k0 + k) * tileTokens);
                for (int t = 0; t < tileTokens; t += LANES) {
                    FloatVector.fromArray(SPECIES, scratch, t * PACK_COLUMNS + k, PACK_GATHER, 0)
                            .intoMemorySegment(panels, target + 4L * t, ORDER);
                }
            }
        }
        if (paddedIn > in) {
            panels.asSlice(4 * (base + (long) in * tileTokens), 4L * (paddedIn - in) * tileTokens).fill((byte) 0);
        }
    }

    @Override
    public void unpack(float[] c, int cOffset, int tileTokens, int rows, int tokens, MemorySegment into,
                       long byteOffset, long ld) {
        int[] gather = tileTokens == WIDE ? WIDE_GATHER : tileTokens == LANES ? NARROW_GATHER : null;
        int vectorRows = gather == null ? 0 : rows - rows % LANES; // another width moves element by element
        int blockTokens = TRANSPOSE && gather != null ? tokens - tokens % LANES : 0;
        for (int t = 0; t < blockTokens; t += LANES) {
            long line = byteOffset + 4 * t * ld;
            for (int r = 0; r < vectorRows; r += LANES) {
                VectorTransposeTile.transpose(c, cOffset + r * tileTokens + t, tileTokens, into, line + 4L * r,
                        4 * ld);
            }
            for (int token = t; token < t + LANES; token++) {
                for (int r = vectorRows; r < rows; r++) {
                    into.set(ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset + 4 * token * ld + 4L * r,
                            c[cOffset + r * tileTokens + token]);
                }
            }
        }
        for (int t = blockTokens; t < tokens; t++) {
            long line = byteOffset + 4 * t * ld;
            for (int r = 0; r < vectorRows; r += LANES) {
                FloatVector.fromArray(SPECIES, c, cOffset + r * tileTokens + t, gather, 0)
                        .intoMemorySegment(into, line + 4L * r, ORDER);
            }
            for (int r = vectorRows; r < rows; r++) {
                into.set(ValueLayout.JAVA_FLOAT_UNALIGNED, line + 4L * r, c[cOffset + r * tileTokens + t]);
            }
        }
    }

    @Override
    public void twoFour(TwoFourMatrix w, int row0, int rows, int block, MemorySegment panel, long panelOffset,
                        int tileTokens, float[] c, int cOffset) {
        long base = 4 * panelOffset;
        if (tileTokens == WIDE) {
            for (int r = 0; r < rows; r++) {
                VectorSparseRowTiles.twoFourOneRowWide(w, row0 + r, block, panel, base, c, cOffset + r * WIDE);
            }
        } else if (rows == 2) {
            VectorSparseRowTiles.twoFourTwoRowsNarrow(w, row0, block, panel, base, c, cOffset);
        } else {
            VectorSparseRowTiles.twoFourOneRowNarrow(w, row0, block, panel, base, c, cOffset);
        }
    }

    @Override
    public void csr(CsrRows w, int row0, int rows, MemorySegment panel, long panelOffset, int tileTokens, float[] c,
                    int cOffset) {
        int[] offsets = w.rowOffsets();
        long base = 4 * panelOffset;
        boolean wide = tileTokens == WIDE;
        int common = 0;
        if (rows == 2 && !wide) {
            // The rows advance together through their common length (independent chains), then each finishes
            // alone; every row still sums its own entries in stored order.
            common = Math.min(offsets[row0 + 1] - offsets[row0], offsets[row0 + 2] - offsets[row0 + 1]);
            VectorSparseRowTiles.csrTwoRowsNarrow(w, row0, common, panel, base, c, cOffset);
        }
        for (int r = 0; r < rows; r++) {
            int begin = offsets[row0 + r] + common;
            int end = offsets[row0 + r + 1];
            if (wide) {
                VectorSparseRowTiles.csrOneRowWide(w, begin, end, panel, base, c, cOffset + r * WIDE);
            } else {
                VectorSparseRowTiles.csrOneRowNarrow(w, begin, end, panel, base, c, cOffset + r * LANES);
            }
        }
    }
}
