package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.lacuna.runtime.cpu.kernels.Epilogue;
import org.lacuna.runtime.cpu.kernels.RowKernels;
import org.lacuna.runtime.cpu.kernels.Sgemm;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.internal.cpublas.OpenBlas;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.GemmContracts;

/**
 * {@code y = act(x · wᵀ + b)} with a dense weight on the serving CPU backend. Where OpenBLAS serves, an fp32 x and w
 * go to it straight from their buffers; otherwise w is widened to fp32 once per weight ({@link WeightFormCache}; on
 * the Vector API GEMM packed once into its panels instead, a 16-bit w kept 16-bit and widened as the GEMM reads it) and
 * x once per call where several column blocks read it (else one row block at a time inside the chunk that uses it).
 * The output is cut into tiles whose shape follows from the problem's shape ({@link Tiles#of}: large where there are
 * enough of them to share out, small otherwise, near-equal in size; more tiles for more threads only where that
 * changes no bits, see {@link Tiles}), each tile a GEMM over all of
 * {@code in} followed by the bias, the activation and the rounding to y's dtype while it is in cache (an fp32 y with
 * no epilogue is written by the GEMM itself). The GEMM is OpenBLAS's (one thread per call, see {@link OpenBlas}) or
 * the Java {@link Sgemm}, chosen per backend by {@link GemmPath#choose}.
 */
final class CpuDenseLinear {
    /** Tile rows: multiples of {@link #ROW_MULTIPLE}. */
    static final int ROW_BLOCK = 192;
    static final int LARGE_ROW_BLOCK = 384;
    /**
     * Tile columns: multiples of {@link #COL_MULTIPLE}; on the Java kernel over packed weights rounded up to whole
     * panels ({@link #panelColumns}).
     */
    static final int COL_BLOCK = 256;
    static final int LARGE_COL_BLOCK = 512;
    /**
     * Tile columns where every row fits one row block (a sentence of up to 192 tokens): each tile is one GEMM call
     * that packs all of x again, so fewer, wider tiles pay. Two 768-column calls instead of six of 256 took 8% less
     * CPU time for MiniLM's 128 × 384 × 1536 FC1 on one OpenBLAS thread (and 10-12% at 128 × 384 × 384 and
     * 128 × 1536 × 384; measured ad hoc in one JVM, interleaved, not kept as a record); a 192 × 768 tile still fits
     * the per-thread tile buffer.
     */
    static final int WIDE_COL_BLOCK = 768;
    /**
     * Tile rows and columns where OpenBLAS writes y itself (fp32 y, no bias, no activation): no per-thread tile
     * buffer bounds them, and larger tiles pack each row of x and each column of w fewer times. Four tiles of
     * 1032 × 1536 instead of 36 of 384 × 512 took 6-7% less time at 2048 × 768 × 3072 on two threads, and four of
     * 516 × 768 instead of twelve of 264 × 512 6% less at 512 × 768 × 3072 (same JVM, interleaved; ad hoc, not kept
     * as a record: cpu-run-20261206-1143 has the three CPU changes together against their peers).
     */
    static final int DIRECT_ROW_BLOCK = 1032;
    static final int DIRECT_COL_BLOCK = 1536;
    /**
     * OpenBLAS (built with SMALL_MATRIX_OPT, as bytedeco's is) runs a GEMM whose M·N·K is at most 100³ through its
     * small-matrix kernels, which sum over K in one pass, and a larger one through its blocked kernels, which split K:
     * the same output can round differently on the two. A tile cut only because there are more threads must stay
     * on the blocked side, so that the thread count never changes bits.
     */
    static final double SMALL_GEMM_VOLUME = 1e6;
    /** Large tiles only where there are at least this many, so two to four threads still share the work. */
    static final int MIN_LARGE_TILES = 4;
    /** Fewer tiles than this are made an even count (see {@link Tiles}). */
    static final int EVEN_BELOW = 16;
    /**
     * Tile sizes are rounded to these: rows to a multiple of OpenBLAS's 4-column register tile (our rows are its
     * columns) and of the Java kernel's register tile (4 rows now; 12 is kept from the earlier 12-row tile, as
     * changing it moves every tile boundary and that was not measured), columns to two 16-float vectors; on the Java
     * kernel with packed weights, columns further to whole panels ({@link #panelColumns}).
     */
    static final int ROW_MULTIPLE = 12;
    static final int COL_MULTIPLE = 32;
    /**
     * A 16-bit x read by several column blocks is widened whole, once, up to this many elements (1 MiB of fp32, so it
     * stays in L2 for the GEMM); beyond it (or when one column block reads it) each chunk widens its own rows just
     * before its GEMM reads them, which measured faster at 4096 × 384 than one pass through memory.
     */
    static final long WIDEN_WHOLE_MAX = 1L << 18;
    /** Rows widened per chunk: enough work to outweigh handing a chunk to a thread. */
    private static final int WIDEN_ROWS = 256;
    /** Elements of x widened per chunk when x is widened whole. */
    private static final int WIDEN_ELEMENTS = 1 << 16;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final CpuContext context;
    private final GemmPath path;
    private final OpenBlas blas;
    private final FloatArrayPool staging = new FloatArrayPool();
    private final WeightFormCache forms = new WeightFormCache();
    /** Biases read to fp32 arrays once per bias (and again only after a write to their buffer). */
    private final WeightFormCache biases = new WeightFormCache();
    /** The most floats one staged array holds (the JVM's array limit, less a margin for its header). */
    static final int MAX_STAGED = Integer.MAX_VALUE - 8;
    /**
     * One output tile per thread, shared by every backend: an instance field would leave a stale tile per backend.
     * Grown where a tile rounded to whole panels ({@link #panelColumns}) is larger than the largest tile cut.
     */
    private static final ThreadLocal<float[]> TILES = ThreadLocal.withInitial(
            () -> new float[LARGE_ROW_BLOCK * LARGE_COL_BLOCK]);

    /** Which GEMM serves the dense linear. */
    enum GemmPath {
        NATIVE_BLAS, JAVA;

        /** OpenBLAS when the options allow it and it loaded, else the Java GEMM. */
        static GemmPath choose(CpuOptions options, Optional<OpenBlas> library) {
            return options.nativeBlas() && library.isPresent() ? NATIVE_BLAS : JAVA;
        }
    }

    CpuDenseLinear(CpuContext context) {
        this(context, GemmPath.choose(context.options(), context.options().nativeBlas()
                ? NativeBlasStatus.library() : Optional.empty()));
    }

    /** With the GEMM path forced, for tests and schedulers that compare paths. */
    CpuDenseLinear(CpuContext context, GemmPath path) {
        this.context = context;
        this.path = path;
        this.blas = path == GemmPath.NATIVE_BLAS ? NativeBlasStatus.library().orElseThrow(() -> new LacunaException(
                ErrorCode.INTERNAL, "CpuDenseLinear", NativeBlasStatus.describe(context.options()), null)) : null;
    }

    GemmPath path() {
        return path;
    }

    void linear(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        GemmContracts.linearDense(CpuBackendProvider.NAME, x, w, bias, activation, y);
        long tokens = x.shape().rows();
        int out = Math.toIntExact(w.shape().dim(0));
        int in = Math.toIntExact(w.shape().dim(1));
        if (tokens == 0 || out == 0) {
            return;
        }
        stagedElements(out, in);
        MemorySegment weight = weight(w, out, in);
        float[] b = bias(biases, bias, out);
        MemorySegment input = readSegment(x);
        MemorySegment output = segment(y);
        // OpenBLAS reads fp32 x straight from the buffer, and writes y there when no epilogue or rounding follows.
        boolean directInput = path == GemmPath.NATIVE_BLAS && x.dtype() == DType.F32;
        boolean directOutput = path == GemmPath.NATIVE_BLAS && y.dtype() == DType.F32 && bias == null
                && activation == Activation.NONE;
        MemorySegment inputFloats = directInput ? input.asSlice(x.byteOffset()) : null;
        MemorySegment outputFloats = directOutput ? output.asSlice(y.byteOffset()) : null;
        int threads = context.threads().threads();
        // The direct path's tall tiles stage up to DIRECT_ROW_BLOCK rows of a 16-bit x per chunk: only where they fit.
        boolean directTiles = directOutput && (directInput || (long) DIRECT_ROW_BLOCK * in <= MAX_STAGED);
        Tiles tiles = directTiles ? Tiles.direct(tokens, out, in, threads) : Tiles.of(tokens, out, in, threads);
        if (packsWeights()) {
            tiles = tiles.wholePanels(panelColumns(Sgemm.panelWidth(context.vectorApi())));
        }
        int rowBlock = tiles.rows();
        int colBlock = tiles.cols();
        int rowChunks = CpuThreads.chunks(tokens, rowBlock);
        int colChunks = CpuThreads.chunks(out, colBlock);
        // Several column blocks read each row of x: widen it once rather than once per block.
        float[] whole = !directInput && colChunks > 1 && tokens * in <= WIDEN_WHOLE_MAX
                ? staging.borrow(Math.toIntExact(tokens * in)) : null;
        try {
            if (whole != null) {
                int rowsEach = Math.max(1, WIDEN_ELEMENTS / Math.max(1, in));
                context.threads().forEach(CpuThreads.chunks(tokens, rowsEach), chunk -> {
                    long first = (long) chunk * rowsEach;
                    int count = (int) (Math.min(tokens, first + rowsEach) - first) * in;
                    widenRows(input, x.byteOffset(), x.dtype(), first * in, count, whole, (int) (first * in));
                });
            }
            // Column blocks outermost: neighbouring chunks, which mostly run on one thread, share a panel of w.
            context.threads().forEach(Math.multiplyExact(rowChunks, colChunks), chunk -> {
                long row = (long) (chunk % rowChunks) * rowBlock;
                int col = chunk / rowChunks * colBlock;
                int rows = (int) Math.min(rowBlock, tokens - row);
                int cols = Math.min(colBlock, out - col);
                float[] xs = directInput || whole != null ? whole : staging.borrow(rows * in);
                try {
                    MemorySegment a;
                    long aOffset;
                    if (directInput) {
                        a = inputFloats;
                        aOffset = row * in;
                    } else if (whole != null) {
                        a = MemorySegment.ofArray(whole);
                        aOffset = row * in;
                    } else {
                        // Each chunk widens its own rows of x (a small cost beside the GEMM over them), so a large x
                        // read by one column block is never staged whole.
                        widenRows(input, x.byteOffset(), x.dtype(), row * in, rows * in, xs, 0);
                        a = MemorySegment.ofArray(xs);
                        aOffset = 0;
                    }
                    if (directOutput) {
                        blas.sgemm(rows, cols, in, a, aOffset, ld(in), weight, (long) col * in, ld(in), true,
                                outputFloats, row * out + col, out, false);
                        return;
                    }
                    float[] tile = tile(rows * cols);
                    gemm(rows, cols, in, a, aOffset, xs, weight, w.dtype(), col, tile);
                    Epilogue.biasActivation(context.vectorApi(), tile, 0, cols, rows, cols, b, col, activation);
                    store(tile, rows, cols, output, y, row * out + col, out);
                } finally {
                    if (xs != null && xs != whole) {
                        staging.release(xs);
                    }
                }
            });
        } finally {
            if (whole != null) {
                staging.release(whole);
            }
        }
    }

    /**
     * w as the GEMM reads it: an fp32 w straight from its buffer where OpenBLAS serves; on the Vector API GEMM its
     * packed panels (a 16-bit w's bits, {@link PackedBitsWeight}, else fp32); else its fp32 copy. Made on the first
     * call and kept while w's buffer is open and unchanged ({@link WeightFormCache}), so a layer converts its weight
     * once, not on every call.
     */
    private MemorySegment weight(DeviceArray w, int out, int in) {
        if (path == GemmPath.NATIVE_BLAS && w.dtype() == DType.F32) {
            return readSegment(w).asSlice(w.byteOffset());
        }
        if (packsWeights() && (w.dtype() == DType.F16 || w.dtype() == DType.BF16)) {
            return MemorySegment.ofArray(forms.get(PackedBitsWeight.class, out, in, () -> {
                short[] bits = new short[out * in];
                MemorySegment.copy(readSegment(w), ValueLayout.JAVA_SHORT_UNALIGNED, w.byteOffset(), bits, 0,
                        out * in);
                return new PackedBitsWeight(Sgemm.packTransposedBits(out, in, bits));
            }, w).panels());
        }
        if (packsWeights()) {
            return MemorySegment.ofArray(forms.get(PackedWeight.class, out, in, () -> {
                float[] values = new float[out * in];
                widen(w, out, in, values);
                return new PackedWeight(Sgemm.packTransposed(out, in, values));
            }, w).panels());
        }
        float[] widened = forms.get(float[].class, out, in, () -> {
            float[] values = new float[out * in];
            widen(w, out, in, values);
            return values;
        }, w);
        return MemorySegment.ofArray(widened);
    }

    /**
     * Whether the Java GEMM reads w packed once into its kernel's panels ({@link PackedWeight}) rather than packing
     * its tile of w on every call: on the Vector API kernel, whose panels tile tiles' column blocks exactly. Packing
     * Wᵀ's columns is a strided gather, and at 128 tokens it took as long as the multiply-adds (JFR: 717 samples in
     * packing beside 928 in the register tile for the encoder's 128 × 384 × 1536 FFN).
     */
    private boolean packsWeights() {
        return path == GemmPath.JAVA && Sgemm.panelWidth(context.vectorApi()) > 0;
    }

    /**
     * Columns of a tile over packed weights are a multiple of this: whole panels of {@code width} columns (a tile
     * starts at a panel) and of {@link #COL_MULTIPLE} (96 with 512-bit vectors).
     */
    static int panelColumns(int width) {
        int a = COL_MULTIPLE;
        int b = width;
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return COL_MULTIPLE / a * width;
    }

    /** This thread's output tile, at least {@code floats} long. */
    private static float[] tile(int floats) {
        float[] held = TILES.get();
        if (held.length < floats) {
            held = new float[floats];
            TILES.set(held);
        }
        return held;
    }

    /** A weight in the Java GEMM's panels ({@link Sgemm#packTransposed}), kept as a layer's serving form. */
    private record PackedWeight(float[] panels) {
    }

    /**
     * A 16-bit weight in the same panels, still 16-bit ({@link Sgemm#packTransposedBits}): the Java GEMM widens
     * each panel's slice as it reads it, with the same bits as over the widened weight. A MiniLM-shaped encoder's
     * weights (about 21 MB in F16, 42 MB widened) do not stay in cache from one forward to the next, and the
     * GEMM waits for them: at 128 tokens the half-size form took 460-580 instead of 520-690 µs per
     * 128 × 576..768 × 384 and 128 × 192 × 1536 call on one thread with the weights cycled through 48 copies (ad
     * hoc, one JVM, interleaved, medians of 30; not kept as a record).
     */
    private record PackedBitsWeight(short[] panels) {
    }

    /** Weights widened and kept so far; a test checks a weight is widened once, not per call. */
    int cachedWeights() {
        return forms.size();
    }

    /** Biases read and kept so far; a test checks a bias is read once, not per call. */
    int cachedBiases() {
        return biases.size();
    }

    /** BLAS wants a leading dimension of at least 1, also for an empty (in = 0) product. */
    private static int ld(int in) {
        return Math.max(1, in);
    }

    /**
     * The output tile of one GEMM call. Large tiles amortise the GEMM's packing (about 25% faster at 512 × 768 × 3072
     * on this machine's OpenBLAS), small ones keep a small problem spread over the threads. Rows and columns are each
     * cut into near-equal blocks, and where that makes only a few tiles in an odd count one side takes one block more:
     * an odd handful, or a ragged last block, leaves one thread a whole tile behind the others (QKV at 128 tokens in
     * five 256-column tiles, or FC2 at 4096 tokens in ten 384-row tiles and a ragged eleventh, lost 10-30% that way on
     * two threads); with many tiles work stealing evens the load out anyway. Where all rows fit one row block, the
     * tiles are wider ({@link #WIDE_COL_BLOCK}). The sizes are tuned on two threads; with more, a problem is cut into
     * at least as many tiles as there are threads where its blocks allow (never a block under {@link #COL_BLOCK}
     * columns, or {@link #ROW_BLOCK} rows, outside the direct path), so a 16-core host does not serve MiniLM's FC1 on
     * two. Results do not depend on those extra cuts: the Java GEMM sums every output over {@code in} in the same
     * {@code KC} slices whichever tile holds it, and OpenBLAS does too as long as a tile stays above
     * {@link #SMALL_GEMM_VOLUME}, so a cut for more threads is made only where every tile stays above it (checked bit
     * for bit with 1, 2, 3 and 5 threads, {@code in} up to 800).
     */
    record Tiles(int rows, int cols) {
        static Tiles of(long tokens, int out, int in, int threads) {
            return sameBits(tokens, out, in, cut(tokens, out, in, threads), cut(tokens, out, in, 1));
        }

        /**
         * These tiles with their columns rounded up to a multiple of {@code multiple} (whole panels of packed
         * weights; see {@link #panelColumns}): at most as many column blocks as before. The Java GEMM's bits do not
         * depend on its tiles.
         */
        Tiles wholePanels(int multiple) {
            return new Tiles(rows, (cols + multiple - 1) / multiple * multiple);
        }

        private static Tiles cut(long tokens, int out, int in, int threads) {
            if (tokens <= ROW_BLOCK) {
                // One row block: at least two column tiles (an even count while few) so two threads share it, and
                // one per thread where 256-column blocks allow.
                long colChunks = Math.max(2, chunks(out, WIDE_COL_BLOCK));
                long perThread = Math.min(threads, chunks(out, COL_BLOCK));
                if (perThread > colChunks && staysBlocked(tokens, 1, out, perThread, in)) {
                    colChunks = perThread;
                }
                if (colChunks < EVEN_BELOW && colChunks % 2 == 1) {
                    colChunks++;
                }
                return new Tiles(block(tokens, 1, ROW_MULTIPLE, ROW_BLOCK), block(out, colChunks, COL_MULTIPLE,
                        WIDE_COL_BLOCK));
            }
            long rowChunks = chunks(tokens, LARGE_ROW_BLOCK);
            long colChunks = chunks(out, LARGE_COL_BLOCK);
            int rowGrain = LARGE_ROW_BLOCK;
            int colGrain = LARGE_COL_BLOCK;
            if (rowChunks * colChunks < MIN_LARGE_TILES || rowChunks * colChunks < threads
                    && staysBlocked(tokens, chunks(tokens, ROW_BLOCK), out, chunks(out, COL_BLOCK), in)) {
                rowChunks = chunks(tokens, ROW_BLOCK);
                colChunks = chunks(out, COL_BLOCK);
                rowGrain = ROW_BLOCK;
                colGrain = COL_BLOCK;
            }
            long tiles = rowChunks * colChunks;
            if (tiles > 1 && tiles < EVEN_BELOW && tiles % 2 == 1) {
                if (colChunks >= rowChunks) {
                    colChunks++;
                } else {
                    rowChunks++;
                }
            }
            return new Tiles(block(tokens, rowChunks, ROW_MULTIPLE, rowGrain), block(out, colChunks, COL_MULTIPLE,
                    colGrain));
        }

        /**
         * The tiles of a GEMM that writes y itself ({@link #DIRECT_ROW_BLOCK} × {@link #DIRECT_COL_BLOCK} at most,
         * at least {@link #MIN_LARGE_TILES} of them where the columns allow, an even count while few); at most one
         * row block of rows, as {@link #of}.
         */
        static Tiles direct(long tokens, int out, int in, int threads) {
            if (tokens <= ROW_BLOCK) {
                return of(tokens, out, in, threads);
            }
            return sameBits(tokens, out, in, cutDirect(tokens, out, in, threads), cutDirect(tokens, out, in, 1));
        }

        private static Tiles cutDirect(long tokens, int out, int in, int threads) {
            long rowChunks = chunks(tokens, DIRECT_ROW_BLOCK);
            long colChunks = chunks(out, DIRECT_COL_BLOCK);
            long minTiles = MIN_LARGE_TILES;
            if (threads > MIN_LARGE_TILES
                    && staysBlocked(tokens, rowChunks, out, (threads + rowChunks - 1) / rowChunks, in)) {
                minTiles = threads;
            }
            if (rowChunks * colChunks < minTiles) {
                long wanted = (minTiles + rowChunks - 1) / rowChunks;
                colChunks = Math.min(chunks(out, COL_MULTIPLE), Math.max(colChunks, wanted));
            }
            long tiles = rowChunks * colChunks;
            if (tiles > 1 && tiles < EVEN_BELOW && tiles % 2 == 1) {
                if (colChunks >= rowChunks && colChunks < chunks(out, COL_MULTIPLE)) {
                    colChunks++;
                } else {
                    rowChunks++;
                }
            }
            return new Tiles(block(tokens, rowChunks, ROW_MULTIPLE, DIRECT_ROW_BLOCK), block(out, colChunks,
                    COL_MULTIPLE, DIRECT_COL_BLOCK));
        }

        /**
         * {@code cut}, the tiles cut for more threads, where it and {@code base}, the tiles of one thread, keep every
         * tile (the ragged last ones included) above {@link #SMALL_GEMM_VOLUME}; else {@code base}, so that the thread
         * count never moves an output between OpenBLAS's small-matrix and blocked kernels.
         */
        private static Tiles sameBits(long tokens, int out, int in, Tiles cut, Tiles base) {
            return cut.equals(base) || blocked(tokens, out, in, cut) && blocked(tokens, out, in, base) ? cut : base;
        }

        /** Whether the smallest of {@code tiles} (the last row block's last column block) is above the line. */
        private static boolean blocked(long tokens, int out, int in, Tiles tiles) {
            long lastRows = tokens - (chunks(tokens, tiles.rows()) - 1) * tiles.rows();
            long lastCols = out - (chunks(out, tiles.cols()) - 1) * tiles.cols();
            return (double) lastRows * lastCols * in > SMALL_GEMM_VOLUME;
        }

        /**
         * A first guess at whether cutting {@code tokens × out} into {@code rowChunks × colChunks} keeps a tile above
         * {@link #SMALL_GEMM_VOLUME}; the tiles finally cut are checked whole by {@link #sameBits}.
         */
        private static boolean staysBlocked(long tokens, long rowChunks, int out, long colChunks, int in) {
            double rows = Math.floor((double) tokens / rowChunks);
            double cols = Math.floor((double) out / colChunks);
            return rows * cols * in > SMALL_GEMM_VOLUME;
        }

        private static long chunks(long items, int grain) {
            return Math.max(1, (items + grain - 1) / grain);
        }

        /** {@code items} in {@code chunks} near-equal blocks, rounded up to a multiple, never above the grain. */
        private static int block(long items, long chunks, int multiple, int grain) {
            long size = Math.max(1, (items + chunks - 1) / chunks);
            return Math.toIntExact(Math.min(grain, (size + multiple - 1) / multiple * multiple));
        }
    }

    /**
     * The floats of a staged {@code out × in} weight, refused when it (or a row block of x beside it) would not fit
     * one Java array.
     */
    static int stagedElements(int out, int in) {
        long weight = (long) out * in;
        if (weight > MAX_STAGED || (long) LARGE_ROW_BLOCK * in > MAX_STAGED) {
            throw new NotSupportedException("linearDense", "a dense weight of [" + out + ", " + in + "] ("
                    + weight + " elements) is too big for the CPU backend, which stages it as one fp32 array of at most "
                    + MAX_STAGED + " elements");
        }
        return (int) weight;
    }

    /**
     * tile[rows × cols] = x[rows × in] · w[col .. col + cols)ᵀ; x at float {@code aOffset} of {@code a} (for the Java
     * GEMM always the widened rows {@code xs}), w the fp32 weight (for the Java GEMM always a heap array: fp32, or
     * a 16-bit weight's packed bits of {@code weightType}).
     */
    private void gemm(int rows, int cols, int in, MemorySegment a, long aOffset, float[] xs, MemorySegment weight,
                      DType weightType, int col, float[] tile) {
        if (path == GemmPath.NATIVE_BLAS) {
            blas.sgemm(rows, cols, in, a, aOffset, ld(in), weight, (long) col * in, ld(in), true,
                    MemorySegment.ofArray(tile), 0, cols, false);
        } else if (packsWeights() && weight.heapBase().orElseThrow() instanceof short[] bits) {
            Sgemm.multiplyPackedBits(rows, cols, in, xs, Math.toIntExact(aOffset), ld(in), bits, weightType, col, tile,
                    0, cols, false);
        } else if (packsWeights()) {
            float[] panels = (float[]) weight.heapBase().orElseThrow();
            Sgemm.multiplyPacked(rows, cols, in, xs, Math.toIntExact(aOffset), ld(in), panels, col, tile, 0, cols,
                    false);
        } else {
            float[] ws = (float[]) weight.heapBase().orElseThrow();
            Sgemm.multiply(context.vectorApi(), rows, cols, in, xs, Math.toIntExact(aOffset), ld(in), ws, col * in,
                    ld(in), true, tile, 0, cols, false);
        }
    }

    /** Reads a [rows × cols] matrix of any float dtype into fp32, rows split over the worker threads. */
    private void widen(DeviceArray array, int rows, int cols, float[] into) {
        MemorySegment source = readSegment(array);
        context.threads().forEach(CpuThreads.chunks(rows, WIDEN_ROWS), chunk -> {
            int from = chunk * WIDEN_ROWS * cols;
            int to = Math.min(rows, (chunk + 1) * WIDEN_ROWS) * cols;
            widenRows(source, array.byteOffset(), array.dtype(), from, to - from, into, from);
        });
    }

    /**
     * Widens {@code count} elements from element {@code first} of a matrix at {@code base} into {@code into[at..]},
     * through the backend's one family of storage conversions (the same bits on either path).
     */
    private void widenRows(MemorySegment source, long base, DType dtype, long first, int count, float[] into, int at) {
        RowKernels.of(context.vectorApi()).widen(source, base + first * dtype.byteSize(), dtype, into, at, count);
    }

    /**
     * The F32 bias as an fp32 array kept in {@code cache} with the layer's weight forms (read again only after its
     * buffer is written), or null for none: a call does not copy the bias. Callers only read the array.
     */
    static float[] bias(WeightFormCache cache, DeviceArray bias, int out) {
        return bias == null ? null : cache.get(float[].class, out, 1, () -> readBias(bias, out), bias);
    }

    /** The F32 bias (the only bias dtype the linear contracts accept) as a new fp32 array, or null for none. */
    static float[] readBias(DeviceArray bias, int out) {
        if (bias == null) {
            return null;
        }
        float[] values = new float[out];
        MemorySegment.copy(((CpuBuffer) bias.buffer()).readSegment("linear"), F32, bias.byteOffset(), values, 0, out);
        return values;
    }

    /** Writes tile[rows × cols] to y at element {@code start}, rows {@code ld} apart, rounded to y's dtype. */
    private void store(float[] tile, int rows, int cols, MemorySegment output, DeviceArray y, long start, int ld) {
        int size = y.dtype().byteSize();
        RowKernels narrowing = RowKernels.of(context.vectorApi());
        for (int r = 0; r < rows; r++) {
            narrowing.narrow(tile, r * cols, cols, output, y.byteOffset() + (start + (long) r * ld) * size, y.dtype());
        }
    }

    private static MemorySegment segment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).segment("linearDense");
    }

    /** An array this op only reads (x, w): its buffer's generation stays, so w's widened form stays valid. */
    private static MemorySegment readSegment(DeviceArray array) {
        return ((CpuBuffer) array.buffer()).readSegment("linearDense");
    }
}
