package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuDenseLinear.GemmPath;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.LibraryLoadException;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.internal.cpublas.OpenBlas;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.GemmConformance;
import org.lacuna.runtime.testing.TestData;

/**
 * The dense linear's three GEMM paths (OpenBLAS, Java with the Vector API, scalar Java) against a double-precision
 * reference, on shapes that cross its output tiles; bit-identical outputs for 1, 2 and 3 threads; and the fallback
 * to the Java GEMM when the native BLAS is off or missing. (The default path also runs the family conformance suite
 * in {@link CpuGemmTest}.)
 */
class CpuDenseLinearTest {
    /** (tokens, out, in): one tile, tiles with ragged edges in both directions, one row and one column. */
    private static final int[][] SHAPES = {{1, 1, 1}, {5, 17, 33}, {200, 300, 70}, {7, 513, 257}, {193, 1, 9}};

    record Path(GemmPath gemm, boolean vectorApi) {
        @Override
        public String toString() {
            return gemm == GemmPath.NATIVE_BLAS ? "openblas" : vectorApi ? "java-vector" : "java-scalar";
        }
    }

    static List<Path> paths() {
        List<Path> paths = new ArrayList<>(List.of(new Path(GemmPath.JAVA, true), new Path(GemmPath.JAVA, false)));
        if (NativeBlasStatus.library().isPresent()) {
            paths.add(new Path(GemmPath.NATIVE_BLAS, true));
        }
        return paths;
    }

    @Test
    void theNativeBlasLoadsInTheTestJvm() {
        // The openblas jar is a test dependency of this module: if it stops loading, the BLAS path goes untested.
        assertTrue(NativeBlasStatus.library().isPresent(), NativeBlasStatus.describe(new CpuOptions(1, true, true)));
        assertTrue(NativeBlasStatus.describe(new CpuOptions(1, true, true)).startsWith("native BLAS: OpenBLAS"));
    }

    @Test
    void everyPathMatchesTheDoubleReference() {
        SplittableRandom random = TestData.random("dense linear paths");
        for (Path path : paths()) {
            for (int[] shape : SHAPES) {
                for (DType dtype : List.of(DType.F32, DType.F16, DType.BF16)) {
                    Activation activation = Activation.values()[random.nextInt(3)];
                    DType outType = List.of(DType.F32, DType.F16, DType.BF16).get(random.nextInt(3));
                    Case c = Case.random(random, shape, dtype, random.nextBoolean());
                    float[] y = run(path, 2, c, activation, outType);
                    double[] expected = c.reference(activation);
                    for (int i = 0; i < y.length; i++) {
                        double tolerance = 2 * TestData.ulp(outType, expected[i]) + 2e-6 * c.in + 1e-6;
                        assertEquals(expected[i], y[i], tolerance, path + " " + dtype + "->" + outType + " " + activation
                                + " tokens=" + c.tokens + " out=" + c.out + " in=" + c.in + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void oneAndSeveralThreadsGiveTheSameBits() {
        SplittableRandom random = TestData.random("dense linear threads");
        // 2 x 2 large tiles of 204 x 320 (204 x 384 on the Java path, whose tiles take whole 96-column panels), then
        // 2 x 2 small tiles of 156 x 160; both ragged at the far edges. A 16-bit x is widened whole first (several
        // column blocks read it), an fp32 one read in place by OpenBLAS.
        // At 128 x 1536 one and two threads cut two 768-column tiles, three and five threads four or six of 384 or
        // 256; without bias or activation (OpenBLAS writes y itself) 520 x 1600 is four tiles up to four threads and
        // six with five. With in = 800 the GEMMs split k into slices on every path; 4 x 3072 x 800 goes from four
        // tiles to six (each still above OpenBLAS's small-matrix volume). A sentence's token counts beside 128 (and
        // one token) end in a partial 4-row register tile of the Java GEMM; 768 x 3072 takes tiles past 384 x 512 there
        // (whole panels), which grow the per-thread tile buffer.
        for (int[] shape : new int[][] {{400, 600, 70}, {300, 300, 70}, {128, 1536, 40}, {520, 1600, 40},
                {128, 1536, 800}, {4, 3072, 800}, {128, 1536, 16}, {127, 1152, 40}, {129, 384, 300},
                {1, 1536, 40}, {768, 3072, 16}}) {
            for (DType dtype : List.of(DType.F32, DType.F16)) {
                for (boolean bias : new boolean[] {true, false}) {
                    Case c = Case.random(random, shape, dtype, bias);
                    Activation activation = bias ? Activation.GELU : Activation.NONE;
                    for (Path path : paths()) {
                        float[] one = run(path, 1, c, activation, DType.F32);
                        for (int threads : new int[] {2, 3, 5}) {
                            assertArrayEquals(one, run(path, threads, c, activation, DType.F32), path + " " + dtype
                                    + (bias ? " with bias" : "") + " with " + threads + " threads differs from 1 thread");
                        }
                    }
                }
            }
        }
    }

    @Test
    void anEmptyProductIsTheBiasOnEveryPath() {
        SplittableRandom random = TestData.random("dense linear in=0");
        Case c = Case.random(random, new int[] {4, 8, 0}, DType.F32, true);
        for (Path path : paths()) {
            float[] y = run(path, 2, c, Activation.RELU, DType.F32);
            for (int t = 0; t < 4; t++) {
                for (int o = 0; o < 8; o++) {
                    assertEquals(Math.max(c.bias()[o], 0f), y[t * 8 + o], path + " at [" + t + ", " + o + "]");
                }
            }
        }
    }

    /** The tiles on one thread, which the shape alone sets (tuned on two threads, which cut the same). */
    private static CpuDenseLinear.Tiles shapeTiles(long tokens, int out) {
        return CpuDenseLinear.Tiles.of(tokens, out, 0, 1);
    }

    /** As {@link #shapeTiles}, for a GEMM that writes y itself. */
    private static CpuDenseLinear.Tiles shapeDirectTiles(long tokens, int out) {
        return CpuDenseLinear.Tiles.direct(tokens, out, 0, 1);
    }

    @Test
    void tilesFollowTheShapeAlone() {
        assertEquals(new CpuDenseLinear.Tiles(204, 320), shapeTiles(400, 600));
        assertEquals(new CpuDenseLinear.Tiles(264, 512), shapeTiles(512, 3072));
        assertEquals(new CpuDenseLinear.Tiles(156, 160), shapeTiles(300, 300));
        // One sentence of MiniLM: every row in one block, and two wide column blocks (QKV, FC1, and the 384-wide
        // projections: never one tile, which one thread would run alone).
        assertEquals(new CpuDenseLinear.Tiles(132, 192), shapeTiles(128, 384));
        assertEquals(new CpuDenseLinear.Tiles(132, 576), shapeTiles(128, 1152));
        assertEquals(new CpuDenseLinear.Tiles(132, 768), shapeTiles(128, 1536));
        // A wide output at one sentence: an even count of near-equal wide blocks (five would be 768 each).
        assertEquals(new CpuDenseLinear.Tiles(132, 672), shapeTiles(128, 4000));
        // FC2 at 32 sentences: twelve row blocks of near-equal size, not ten and a ragged eleventh.
        assertEquals(new CpuDenseLinear.Tiles(348, 384), shapeTiles(4096, 384));
        // QKV at 32 sentences: 33 large tiles are enough to share out; three equal column blocks, not 512, 512, 128.
        assertEquals(new CpuDenseLinear.Tiles(384, 384), shapeTiles(4096, 1152));
    }

    @Test
    void moreThreadsThanTilesCutMoreTiles() {
        // Tuned on two threads: one or two threads give the same tiles.
        assertEquals(shapeTiles(128, 1536), CpuDenseLinear.Tiles.of(128, 1536, 384, 2));
        assertEquals(shapeDirectTiles(2048, 3072), CpuDenseLinear.Tiles.direct(2048, 3072, 768, 2));
        // Sixteen threads: MiniLM's FC1 at 128 tokens in six 256-column tiles, not two of 768.
        assertEquals(new CpuDenseLinear.Tiles(132, 256), CpuDenseLinear.Tiles.of(128, 1536, 384, 16));
        // ... but never a cut that would move a tile under OpenBLAS's small-matrix volume: 4 tokens keep four tiles.
        assertEquals(shapeTiles(4, 3072), CpuDenseLinear.Tiles.of(4, 3072, 768, 16));
        // ... also where the even-count rule cuts further after the first guess: 3 threads would make four 384-column
        // tiles of 128 x 384 x 16 (under the line) where one thread makes two of 768 (above it).
        assertEquals(shapeTiles(128, 1536), CpuDenseLinear.Tiles.of(128, 1536, 16, 3));
        for (long tokens : new long[] {1, 128, 400, 2048}) {
            for (int out : new int[] {384, 1536, 3072}) {
                for (int threads : new int[] {4, 8, 16}) {
                    for (boolean direct : new boolean[] {false, true}) {
                        CpuDenseLinear.Tiles tiles = direct ? CpuDenseLinear.Tiles.direct(tokens, out, 4096, threads)
                                : CpuDenseLinear.Tiles.of(tokens, out, 4096, threads);
                        long count = (long) CpuThreads.chunks(tokens, tiles.rows()) * CpuThreads.chunks(out,
                                tiles.cols());
                        // The most tiles each rule may cut: one row block of 256-column blocks at few tokens;
                        // 192 x 256 blocks; on the direct path its row blocks of 32-column blocks.
                        long possible = tokens <= CpuDenseLinear.ROW_BLOCK ? CpuThreads.chunks(out,
                                CpuDenseLinear.COL_BLOCK)
                                : direct ? (long) CpuThreads.chunks(tokens, CpuDenseLinear.DIRECT_ROW_BLOCK)
                                        * CpuThreads.chunks(out, CpuDenseLinear.COL_MULTIPLE)
                                : (long) CpuThreads.chunks(tokens, CpuDenseLinear.ROW_BLOCK)
                                        * CpuThreads.chunks(out, CpuDenseLinear.COL_BLOCK);
                        // Blocks are rounded up to whole register tiles, which may leave a few threads out
                        // (400 x 384 direct on 8 threads: six tiles of 64 columns), never most of them.
                        assertTrue(2 * count > Math.min(threads, possible), count + " tiles of " + tiles + " for "
                                + tokens + " x " + out + " on " + threads + " threads" + (direct ? " (direct)" : ""));
                    }
                }
            }
        }
    }

    @Test
    void tilesOverPackedWeightsHoldWholePanels() {
        // Panels of 96 columns (six 16-float vectors) or 48 (six 8-float ones) tile in multiples of 96; 32 and 64 in their own.
        assertEquals(96, CpuDenseLinear.panelColumns(96));
        assertEquals(96, CpuDenseLinear.panelColumns(48));
        assertEquals(32, CpuDenseLinear.panelColumns(32));
        assertEquals(64, CpuDenseLinear.panelColumns(64));
        // MiniLM's shapes at 128 tokens keep their two tiles; a 256-column block grows to three panels.
        assertEquals(new CpuDenseLinear.Tiles(132, 576), CpuDenseLinear.Tiles.of(128, 1152, 384, 2).wholePanels(96));
        assertEquals(new CpuDenseLinear.Tiles(132, 192), CpuDenseLinear.Tiles.of(128, 384, 384, 2).wholePanels(96));
        assertEquals(new CpuDenseLinear.Tiles(132, 288), new CpuDenseLinear.Tiles(132, 256).wholePanels(96));
        assertEquals(new CpuDenseLinear.Tiles(384, 576), new CpuDenseLinear.Tiles(384, 512).wholePanels(96));
    }

    @Test
    void tilesOfAGemmThatWritesYItselfAreLarger() {
        // The dense benchmark shapes: four tiles each, two per thread on two threads.
        assertEquals(new CpuDenseLinear.Tiles(1032, 1536), shapeDirectTiles(2048, 3072));
        assertEquals(new CpuDenseLinear.Tiles(516, 768), shapeDirectTiles(512, 3072));
        // At one row block the few-rows rule holds either way.
        assertEquals(shapeTiles(128, 1536), shapeDirectTiles(128, 1536));
        // Narrow outputs: as many column blocks as the columns allow, never a block under 32 columns.
        assertEquals(new CpuDenseLinear.Tiles(300, 32), shapeDirectTiles(300, 33));
        for (long tokens : new long[] {1, 193, 385, 1000, 2048, 4096, 9999}) {
            for (int out : new int[] {1, 33, 384, 1152, 1536, 3072, 5000}) {
                CpuDenseLinear.Tiles tiles = shapeDirectTiles(tokens, out);
                assertTrue(tiles.rows() <= CpuDenseLinear.DIRECT_ROW_BLOCK
                        && tiles.cols() <= CpuDenseLinear.DIRECT_COL_BLOCK, tiles + " for " + tokens + " x " + out);
                int count = CpuThreads.chunks(tokens, tiles.rows()) * CpuThreads.chunks(out, tiles.cols());
                assertTrue(count == 1 || count % 2 == 0 || count >= CpuDenseLinear.EVEN_BELOW,
                        count + " tiles of " + tiles + " for " + tokens + " x " + out);
            }
        }
    }

    @Test
    void fewTilesComeInAnEvenCount() {
        for (long tokens : new long[] {1, 7, 128, 200, 385, 1000, 4096, 9999}) {
            for (int out : new int[] {1, 33, 384, 1152, 1536, 3072, 5000}) {
                CpuDenseLinear.Tiles tiles = shapeTiles(tokens, out);
                assertTrue((long) tiles.rows() * tiles.cols()
                        <= (long) CpuDenseLinear.LARGE_ROW_BLOCK * CpuDenseLinear.LARGE_COL_BLOCK, tiles
                        + " exceeds the per-thread tile for " + tokens + " x " + out);
                int count = CpuThreads.chunks(tokens, tiles.rows()) * CpuThreads.chunks(out, tiles.cols());
                assertTrue(count == 1 || count % 2 == 0 || count >= CpuDenseLinear.EVEN_BELOW,
                        count + " tiles of " + tiles + " for " + tokens + " x " + out);
            }
        }
    }

    @Test
    void aWeightTooBigToStageIsRefusedClearly() {
        assertEquals(600 * 70, CpuDenseLinear.stagedElements(600, 70));
        NotSupportedException tooMany = assertThrows(NotSupportedException.class,
                () -> CpuDenseLinear.stagedElements(65_536, 32_768));
        assertTrue(tooMany.getMessage().contains("[65536, 32768]"), tooMany.getMessage());
        // One row block of x must fit an array too.
        assertThrows(NotSupportedException.class, () -> CpuDenseLinear.stagedElements(1, 12_000_000));
    }

    @Test
    void theJavaGemmServesWhenTheNativeBlasIsOffOrMissing() {
        CpuOptions blasWanted = new CpuOptions(1, true, true);
        CpuOptions blasOff = new CpuOptions(1, true, false);
        assertEquals(GemmPath.JAVA, GemmPath.choose(blasWanted, Optional.empty()));
        assertEquals(GemmPath.JAVA, GemmPath.choose(blasOff, NativeBlasStatus.library()));
        assertEquals(NativeBlasStatus.library().isPresent() ? GemmPath.NATIVE_BLAS : GemmPath.JAVA,
                GemmPath.choose(blasWanted, NativeBlasStatus.library()));
        assertEquals("native BLAS off (lacuna.cpu.blas=false); Java GEMM serves", NativeBlasStatus.describe(blasOff));
        CpuContext context = CpuContext.open(blasOff);
        try {
            assertEquals(GemmPath.JAVA, new CpuDenseLinear(context).path());
        } finally {
            context.threads().close();
        }
    }

    @Test
    void aLibraryThatDoesNotLoadSaysWhy() {
        String property = "lacuna.openblas.path";
        System.setProperty(property, "/nonexistent/libopenblas.so.0");
        try {
            LibraryLoadException error = assertThrows(LibraryLoadException.class, OpenBlas::load);
            assertTrue(error.getMessage().contains("/nonexistent/libopenblas.so.0"), error.getMessage());
        } finally {
            System.clearProperty(property);
        }
    }

    /**
     * A weight is widened once, not per call, and widened afresh once anything may have rewritten its buffer: a
     * host upload into it or an op writing it. The kept form must never answer for changed contents.
     */
    @Test
    void aWeightIsWidenedOnceAndAgainAfterItsBufferChanges() {
        SplittableRandom random = TestData.random("dense linear weight cache");
        int[] shape = {6, 20, 12};
        for (Path path : paths()) {
            // An fp32 weight goes to OpenBLAS unconverted; every other weight is kept widened.
            DType dtype = path.gemm() == GemmPath.NATIVE_BLAS ? DType.F16 : DType.F32;
            Case first = Case.random(random, shape, dtype, false);
            Case second = first.withWeightOf(Case.random(random, shape, dtype, false));
            Case third = first.withWeightOf(Case.random(random, shape, dtype, false));
            CpuOptions options = new CpuOptions(2, path.vectorApi(), path.gemm() == GemmPath.NATIVE_BLAS);
            CpuContext context = CpuContext.open(options);
            try (Backend backend = new CpuBackendProvider().open(0, options)) {
                CpuDenseLinear linear = new CpuDenseLinear(context, path.gemm());
                DeviceArray xs = HostData.upload(backend, dtype, Shape.of(first.tokens, first.in), first.x);
                DeviceArray ws = HostData.upload(backend, dtype, Shape.of(first.out, first.in), first.w);
                DeviceArray ys = HostData.upload(backend, DType.F32, Shape.of(first.tokens, first.out),
                        new float[first.tokens * first.out]);
                for (int call = 0; call < 2; call++) {
                    linear.linear(xs, ws, null, Activation.NONE, ys);
                    assertMatches(first.reference(Activation.NONE), HostData.downloadFloats(backend, ys), path);
                }
                assertEquals(1, linear.cachedWeights(), path + ": widened once for two calls");

                // New contents by a host upload into the same buffer, at the same offset, dtype and shape.
                DeviceArray staged = HostData.upload(backend, dtype, Shape.of(first.out, first.in), second.w);
                long bytes = ws.buffer().byteSize();
                try (var arena = java.lang.foreign.Arena.ofConfined()) {
                    MemorySegment host = arena.allocate(bytes);
                    backend.download(staged.buffer(), 0, host, bytes);
                    backend.upload(host, ws.buffer(), 0, bytes);
                }
                linear.linear(xs, ws, null, Activation.NONE, ys);
                assertMatches(second.reference(Activation.NONE), HostData.downloadFloats(backend, ys), path);

                // New contents written by an op.
                DeviceArray source = HostData.upload(backend, DType.F32, Shape.of(first.out, first.in), third.w);
                backend.ops().elementwise().cast(source, ws);
                linear.linear(xs, ws, null, Activation.NONE, ys);
                assertMatches(third.reference(Activation.NONE), HostData.downloadFloats(backend, ys), path);
                assertEquals(1, linear.cachedWeights(), path + ": the stale forms are dropped");
            } finally {
                context.threads().close();
            }
        }
    }

    /** A bias is read once, not copied per call, and read afresh once an op has written its buffer. */
    @Test
    void aBiasIsReadOnceAndAgainAfterItsBufferChanges() {
        SplittableRandom random = TestData.random("dense linear bias cache");
        int[] shape = {5, 24, 16};
        CpuOptions options = new CpuOptions(2, false, false);
        CpuContext context = CpuContext.open(options);
        try (Backend backend = new CpuBackendProvider().open(0, options)) {
            Case first = Case.random(random, shape, DType.F32, true);
            float[] newBias = Case.random(random, shape, DType.F32, true).bias();
            Case second = new Case(first.tokens(), first.out(), first.in(), first.dtype(), first.x(), first.w(),
                    newBias);
            CpuDenseLinear linear = new CpuDenseLinear(context, GemmPath.JAVA);
            DeviceArray xs = HostData.upload(backend, DType.F32, Shape.of(first.tokens, first.in), first.x);
            DeviceArray ws = HostData.upload(backend, DType.F32, Shape.of(first.out, first.in), first.w);
            DeviceArray bs = HostData.upload(backend, DType.F32, Shape.of(first.out), first.bias);
            DeviceArray ys = HostData.upload(backend, DType.F32, Shape.of(first.tokens, first.out),
                    new float[first.tokens * first.out]);
            for (int call = 0; call < 3; call++) {
                linear.linear(xs, ws, bs, Activation.RELU, ys);
                assertMatches(first.reference(Activation.RELU), HostData.downloadFloats(backend, ys), null);
            }
            assertEquals(1, linear.cachedBiases(), "read once for three calls");
            DeviceArray source = HostData.upload(backend, DType.F32, Shape.of(first.out), newBias);
            backend.ops().elementwise().add(source, HostData.upload(backend, DType.F32, Shape.of(first.out),
                    new float[first.out]), bs);
            linear.linear(xs, ws, bs, Activation.RELU, ys);
            assertMatches(second.reference(Activation.RELU), HostData.downloadFloats(backend, ys), null);
            assertEquals(1, linear.cachedBiases(), "the stale bias is dropped");
        } finally {
            context.threads().close();
        }
    }

    private static void assertMatches(double[] expected, float[] actual, Path path) {
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 + 1e-5 * Math.abs(expected[i]), path + " at " + i);
        }
    }

    private static float[] run(Path path, int threads, Case c, Activation activation, DType outType) {
        CpuOptions options = new CpuOptions(threads, path.vectorApi(), path.gemm() == GemmPath.NATIVE_BLAS);
        CpuContext context = CpuContext.open(options);
        try (Backend backend = new CpuBackendProvider().open(0, options)) {
            CpuDenseLinear linear = new CpuDenseLinear(context, path.gemm());
            DeviceArray xs = HostData.upload(backend, c.dtype, Shape.of(c.tokens, c.in), c.x);
            DeviceArray ws = HostData.upload(backend, c.dtype, Shape.of(c.out, c.in), c.w);
            DeviceArray bs = c.bias == null ? null : HostData.upload(backend, DType.F32, Shape.of(c.out), c.bias);
            DeviceArray ys = new DeviceArray(backend.allocate((long) c.tokens * c.out * outType.byteSize()), 0,
                    outType, Shape.of(c.tokens, c.out));
            ((CpuBuffer) ys.buffer()).segment("test").fill((byte) 0xff); // NaN in every dtype
            linear.linear(xs, ws, bs, activation, ys);
            return HostData.downloadFloats(backend, ys);
        } finally {
            context.threads().close();
        }
    }

    /** Inputs already representable in their dtype, so the reference sees what the kernel sees. */
    record Case(int tokens, int out, int in, DType dtype, float[] x, float[] w, float[] bias) {
        static Case random(SplittableRandom random, int[] shape, DType dtype, boolean withBias) {
            int tokens = shape[0];
            int out = shape[1];
            int in = shape[2];
            return new Case(tokens, out, in, dtype, TestData.uniform(random, tokens * in, 1f, dtype),
                    TestData.uniform(random, out * in, 1f, dtype),
                    withBias ? TestData.uniform(random, out, 0.5f, DType.F32) : null);
        }

        /** This case's x and bias with the other case's weight. */
        Case withWeightOf(Case other) {
            return new Case(tokens, out, in, dtype, x, other.w, bias);
        }

        double[] reference(Activation activation) {
            return GemmConformance.linearReference(x, w, bias, activation, tokens, out, in);
        }
    }
}
