package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.cpu.kernels.CsrRows;
import org.lacuna.runtime.cpu.kernels.Epilogue;
import org.lacuna.runtime.cpu.kernels.RowKernels;
import org.lacuna.runtime.cpu.kernels.SparseTiles;
import org.lacuna.runtime.cpu.kernels.TokenPanels;
import org.lacuna.runtime.cpu.kernels.TwoFourMatrix;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.gemm.TwoFourMetadata;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.GemmContracts;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * Linear layers with a 2:4 or CSR weight on the serving CPU backend: only the stored non-zeros are multiplied.
 *
 * <p>Each weight is converted once into fp32 values and positions ({@link WeightFormCache}); never into a dense
 * matrix. x is packed into token panels, then the work is split into blocks of at most {@value #MAX_ROW_BLOCK}
 * output rows by {@value #TILES_PER_BLOCK} token tiles, whose boundaries depend on the shapes alone; every output
 * element is summed in the weight's stored order inside one block, so 1 and N threads give the same bits.
 *
 * <p>CSR is not blocked over the input columns as 2:4 is: at 5-10% density a row has only 3-6 entries in a 64-column
 * pass, and reloading its sums every pass measured 30-50% slower than reading the x panel from L2 as the entries
 * come.
 */
final class CpuSparseLinear implements AutoCloseable {
    /**
     * Output rows of one block of work at most: the rows whose results share one token panel while it is in cache.
     * Large blocks write y in long runs (3 KiB of each token's row at 768 rows, where 128 rows wrote 512 bytes):
     * measured in one process, 2 threads, 512 tokens, 768 rows per block ran the 2:4 and CSR layers 5-10% faster
     * than 128, with 512 and 1024 close to 768 and all of the 3072 rows (one block per tile) slower again. On AMD
     * Zen 4 (1 MiB L2 per core), where a 768-row block of a 768-column 2:4 weight (1.3 MB) does not stay in L2, blocks
     * of 192, 256, 384 and 768 rows ran within noise of each other once the 2:4 form was read as one stream (ad hoc,
     * one process, 2 threads, 512x768x3072 each run after a dense call: 10.3, 10.4, 10.4, 10.2-10.4 ms).
     */
    static final int MAX_ROW_BLOCK = 768;
    /** Blocks of work a call is cut into at least, where its rows allow, so that the threads share it evenly. */
    static final int MIN_BLOCKS = 8;
    /** Row blocks are whole multiples of this many rows (one transposed block of the unpacking). */
    static final int ROW_GRAIN = 16;
    /**
     * Tokens whose results are read out of a tile at a time before their epilogue: one transposed block of the
     * unpacking, so that each token's row of results gets its bias, activation and rounding to y's dtype while it is
     * in L1 and the per-thread scratch is a strip, not a tile. Ad hoc, one JVM, calls alternating, medians of 201, bias
     * (+ GELU) into F16: 1.3-3% faster than reading the whole tile out first at 2048 × 384 × 1536 and
     * 2048 × 1536 × 384, within 1-2% (slower) at 512 tokens, where GELU's arithmetic, which the dense path pays alike,
     * is most of the epilogue; strips of 32 tokens ran within noise of this.
     */
    static final int STRIP_TOKENS = ROW_GRAIN;
    /** Token tiles of one block of work. */
    static final int TILES_PER_BLOCK = 1;
    /**
     * Bytes of panel one pass over 2:4 groups reads: 32 KiB stay in L1 while the block's rows go through them. A pass
     * is whole column blocks of the 2:4 form ({@link TwoFourMatrix#BLOCK_GROUPS} groups): with 512-bit vectors, one at
     * the wide tile (128 tokens), eight at the narrow one (16).
     */
    static final int PASS_BYTES = 32 * 1024;
    /** Weight rows one chunk of a 2:4 weight's conversion handles. */
    static final int CONVERT_ROWS = 64;

    /**
     * Each worker thread's tile of sums and strip of token-major results, kept from call to call: allocating them per
     * block of work (64 KiB of sums at 128 rows × 128 tokens, past the thread's allocation buffer; 384 KiB now at 768
     * rows) cost a sixth of a CSR call's time at 5% density in zeroing alone. Shared by every backend, as the dense
     * linear's tile is.
     */
    private static final ThreadLocal<TileBuffers> TILE_BUFFERS = ThreadLocal.withInitial(TileBuffers::new);

    private final CpuContext context;
    private final SparseTiles tiles;
    private final WeightFormCache forms = new WeightFormCache();
    /** Biases read to fp32 arrays once per bias (and again only after a write to their buffer). */
    private final WeightFormCache biases = new WeightFormCache();
    private final PanelWorkspace workspace = new PanelWorkspace();

    CpuSparseLinear(CpuContext context) {
        this.context = context;
        this.tiles = SparseTiles.select(context.vectorApi());
    }

    void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        GemmContracts.linearTwoFour(CpuBackendProvider.NAME, x, w, bias, activation, y);
        TwoFourMatrix matrix = forms.get(TwoFourMatrix.class, w.out(), w.in(), () -> convert(w, context),
                w.values(), w.metadata());
        int blocks = matrix.blocks();
        run(x, matrix.in(), matrix.paddedIn(), matrix.out(), bias, activation, y, (panels, tile, rowStart, rowEnd,
                panelOffset, c) -> {
            int blocksPerPass = Math.max(1, PASS_BYTES / (4 * Float.BYTES * tile * TwoFourMatrix.BLOCK_GROUPS));
            for (int b0 = 0; b0 < blocks; b0 += blocksPerPass) {
                int b1 = Math.min(blocks, b0 + blocksPerPass);
                for (int row = rowStart; row < rowEnd; row += SparseTiles.MAX_ROWS) {
                    for (int block = b0; block < b1; block++) {
                        tiles.twoFour(matrix, row, Math.min(SparseTiles.MAX_ROWS, rowEnd - row), block, panels,
                                panelOffset, tile, c, (row - rowStart) * tile);
                    }
                }
            }
        });
    }

    void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        GemmContracts.linearCsr(CpuBackendProvider.NAME, x, w, bias, activation, y);
        CsrRows matrix = forms.get(CsrRows.class, w.out(), w.in(), () -> convert(w, context), w.rowOffsets(),
                w.columns(), w.values());
        run(x, matrix.in(), matrix.in(), matrix.out(), bias, activation, y, (panels, tile, rowStart, rowEnd,
                panelOffset, c) -> {
            for (int row = rowStart; row < rowEnd; row += SparseTiles.MAX_ROWS) {
                tiles.csr(matrix, row, Math.min(SparseTiles.MAX_ROWS, rowEnd - row), panels, panelOffset, tile, c,
                        (row - rowStart) * tile);
            }
        });
    }

    /**
     * The rows of one block for {@code out} rows and {@code tokenBlocks} token blocks: the rows split evenly into as
     * few blocks as {@link #MAX_ROW_BLOCK} allows, but at least {@link #MIN_BLOCKS} blocks in all where there are rows
     * for them. Depends on the shapes alone; and no block boundary changes a result, as every output element is summed
     * inside one block.
     */
    static int rowBlock(int out, int tokenBlocks) {
        int blocks = Math.max(CpuThreads.chunks(out, MAX_ROW_BLOCK), CpuThreads.chunks(MIN_BLOCKS, tokenBlocks));
        int rows = CpuThreads.chunks(out, blocks);
        return ROW_GRAIN * CpuThreads.chunks(rows, ROW_GRAIN);
    }

    /** Weights converted so far; a test checks a weight is converted once, not per call. */
    int cachedWeights() {
        return forms.size();
    }

    @Override
    public void close() {
        workspace.close();
    }

    /** One thread's scratch for a block of work; grows to the largest block it has been asked for. */
    private static final class TileBuffers {
        private float[] sums = new float[0];
        private float[] results = new float[0];

        TileBuffers fit(int rows, int tileTokens) {
            if (sums.length < rows * tileTokens) {
                sums = new float[rows * tileTokens];
            }
            if (results.length < rows * STRIP_TOKENS) {
                results = new float[rows * STRIP_TOKENS];
            }
            return this;
        }
    }

    /** Adds rows [rowStart, rowEnd) of the token tile at {@code panelOffset} into {@code c[(row - rowStart) · T + t]}. */
    @FunctionalInterface
    private interface TileBody {
        void accumulate(MemorySegment panels, int tile, int rowStart, int rowEnd, long panelOffset, float[] c);
    }

    /**
     * Packs x into token panels, then splits (row blocks × token blocks) over the threads; each block accumulates
     * tile by tile, reads its results out token-major, {@value #STRIP_TOKENS} tokens at a time, and ends each token's
     * row as the dense linear does (bias and activation through {@link Epilogue}, so a sparse and a dense layer round
     * the activation alike, then narrowed to y's type).
     */
    private void run(DeviceArray x, int in, int paddedIn, int out, DeviceArray bias, Activation activation,
                     DeviceArray y, TileBody body) {
        int tokens = Math.toIntExact(x.shape().rows());
        if (tokens == 0 || out == 0) {
            return; // y holds no element: nothing to pack, split or write
        }
        int tile = tiles.tileTokens(tokens);
        int tileCount = TokenPanels.tiles(tokens, tile);
        int tokenBlocks = CpuThreads.chunks(tileCount, TILES_PER_BLOCK);
        int rowBlock = rowBlock(out, tokenBlocks);
        int rowBlocks = CpuThreads.chunks(out, rowBlock);
        float[] b = CpuDenseLinear.bias(biases, bias, out);
        MemorySegment input = segment(x);
        MemorySegment output = segment(y);
        // An fp32 y with no bias or activation takes the results straight from the tile, with no copy between.
        boolean direct = y.dtype() == DType.F32 && b == null && activation == Activation.NONE;
        PanelWorkspace.Block block = workspace.acquire(Float.BYTES * TokenPanels.size(tokens, paddedIn, tile));
        try {
            MemorySegment panels = block.segment();
            context.threads().forEach(tileCount, t ->
                    tiles.pack(input, x.byteOffset(), x.dtype(), tokens, in, paddedIn, tile, t, panels));
            RowKernels narrowing = RowKernels.of(context.vectorApi());
            context.threads().forEach(rowBlocks * tokenBlocks, chunk -> {
                // Row block by row block: the chunks taken one after the other share the block's weight rows, which
                // stay in cache between its token tiles instead of streaming from memory once per tile.
                int rowStart = (chunk / tokenBlocks) * rowBlock;
                int rows = Math.min(out, rowStart + rowBlock) - rowStart;
                int firstTile = (chunk % tokenBlocks) * TILES_PER_BLOCK;
                int lastTile = Math.min(tileCount, firstTile + TILES_PER_BLOCK);
                TileBuffers buffers = TILE_BUFFERS.get().fit(rowBlock, tile);
                float[] c = buffers.sums;
                float[] results = buffers.results;
                MemorySegment resultSegment = MemorySegment.ofArray(results);
                for (int t = firstTile; t < lastTile; t++) {
                    java.util.Arrays.fill(c, 0, rows * tile, 0f);
                    body.accumulate(panels, tile, rowStart, rowStart + rows, TokenPanels.offset(t, paddedIn, tile), c);
                    int count = Math.min(tile, tokens - t * tile);
                    if (direct) {
                        tiles.unpack(c, 0, tile, rows, count, output,
                                y.byteOffset() + 4 * ((long) t * tile * out + rowStart), out);
                        continue;
                    }
                    for (int first = 0; first < count; first += STRIP_TOKENS) {
                        int strip = Math.min(STRIP_TOKENS, count - first);
                        tiles.unpack(c, first, tile, rows, strip, resultSegment, 0, rows);
                        // The strip's tokens are rows of `rows` results here: biased and activated in one call, then
                        // each narrowed to its place in y.
                        Epilogue.biasActivation(context.vectorApi(), results, 0, rows, strip, rows, b, rowStart,
                                activation);
                        for (int token = 0; token < strip; token++) {
                            long start = (long) (t * tile + first + token) * out + rowStart;
                            narrowing.narrow(results, token * rows, rows, output,
                                    y.byteOffset() + start * y.dtype().byteSize(), y.dtype());
                        }
                    }
                }
            });
        } finally {
            workspace.release(block);
        }
    }

    /**
     * The 2:4 weight's kept values in fp32 with their nibbles, rows past {@code out} and groups past {@code in}
     * dropped. A nibble that does not name two increasing positions is refused: the ordered metadata leaves such
     * pairs undefined. The first such nibble in row order is named, however the rows were split over the threads.
     *
     * <p>Each row's kept values lie in one run of its compressed row (the groups' pairs in order), so a row is
     * widened in one bulk call and its nibbles decoded a metadata word at a time, then stored block by block
     * ({@link TwoFourMatrix#setRow}); rows of {@value #CONVERT_ROWS} go to the worker threads. A layer pays this on
     * its first call, which the scheduler's live trials time.
     */
    static TwoFourMatrix convert(TwoFourWeight w, CpuContext context) {
        String call = "linearTwoFour";
        MemorySegment values = readSegment(w.values());
        long valuesOffset = w.values().byteOffset();
        long rowBytes = (long) w.paddedIn() / 2 * w.dtype().byteSize();
        int[] metadata = CpuTokenSelection.readInts(w.metadata(), call);
        int out = w.out();
        int in = w.in();
        int groups = TwoFourMatrix.groupsOf(in);
        TwoFourMatrix matrix = TwoFourMatrix.empty(out, in);
        int chunks = CpuThreads.chunks(out, CONVERT_ROWS);
        int[] firstUnordered = new int[chunks]; // per chunk: row * groups + group of its first bad nibble, or -1
        RowKernels rows = RowKernels.of(context.vectorApi());
        context.threads().forEach(chunks, chunk -> {
            float[] rowValues = new float[2 * groups];
            byte[] rowNibbles = new byte[groups];
            firstUnordered[chunk] = -1;
            for (int row = chunk * CONVERT_ROWS, end = Math.min(out, row + CONVERT_ROWS); row < end; row++) {
                int unordered = TwoFourMetadata.rowNibbles(metadata, row, w.paddedOut(), groups, rowNibbles);
                if (unordered >= 0) {
                    firstUnordered[chunk] = row * groups + unordered;
                    return;
                }
                rows.widen(values, valuesOffset + row * rowBytes, w.dtype(), rowValues, 2 * groups);
                if (in % 4 != 0) { // the ragged last group: a kept position past in reads as zero
                    int last = groups - 1;
                    for (int slot = 0; slot < 2; slot++) {
                        if (4 * last + (rowNibbles[last] >>> (2 * slot) & 3) >= in) {
                            rowValues[2 * last + slot] = 0f;
                        }
                    }
                }
                matrix.setRow(row, rowValues, 0, rowNibbles, 0);
            }
        });
        for (int bad : firstUnordered) {
            if (bad >= 0) {
                int row = bad / groups;
                int group = bad % groups;
                int nibble = TwoFourMetadata.nibbleAt(metadata, row, group, w.paddedOut());
                throw InvalidInputException.argument(call, "row " + row + " group " + group + " has metadata "
                        + "nibble 0x" + Integer.toHexString(nibble) + ": the two kept positions must increase");
            }
        }
        return matrix;
    }

    /** The CSR weight in fp32, with every offset and column checked once so the kernels need no checks. */
    static CsrRows convert(CsrWeight w, CpuContext context) {
        String call = "linearCsr";
        int nonZeros = Math.toIntExact(w.nonZeros());
        int[] offsets = CpuTokenSelection.readInts(w.rowOffsets(), call);
        int[] columns = CpuTokenSelection.readInts(w.columns(), call);
        MemorySegment valueSegment = readSegment(w.values());
        float[] values = new float[nonZeros];
        RowKernels.of(context.vectorApi()).widen(valueSegment, w.values().byteOffset(), w.values().dtype(), values,
                nonZeros);
        for (int row = 0; row < w.out(); row++) {
            int begin = offsets[row];
            int end = offsets[row + 1];
            if (begin < 0 || end < begin || end > nonZeros) {
                throw InvalidInputException.argument(call, "row " + row + " spans entries [" + begin + ", " + end
                        + ") outside the " + nonZeros + " stored non-zeros");
            }
            for (int i = begin; i < end; i++) {
                if (columns[i] < 0 || columns[i] >= w.in()) {
                    throw InvalidInputException.argument(call, "row " + row + " has column " + columns[i]
                            + " outside [0, " + w.in() + ")");
                }
            }
        }
        return new CsrRows(w.out(), w.in(), offsets, columns, values);
    }

    private static MemorySegment segment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).segment("linear");
    }

    /** A weight's memory, read without moving its generation (which would void the form made from it). */
    private static MemorySegment readSegment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).readSegment("linear");
    }
}
