package org.lacuna.bench.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.LacunaConfig;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * Lacuna's 2:4 structured-sparse GEMM ({@code linearTwoFour}, the mma.sp kernel) against cuBLAS dense
 * ({@code linearDense}) on the same problems in the same run: square GEMMs and the linear layers of BERT-base,
 * MiniLM and LLaMA-7B at 1 to 16384 tokens ({@link TwoFourGemmSweep}; {@code LACUNA_TWO_FOUR_GEMM_CASES} selects).
 *
 * <p>Each case yields two results: {@code twofour}, anchored on {@code dense} so its speed-up over cuBLAS is in the
 * report, and {@code dense}. Both count dense-equivalent FLOPs (2·tokens·out·in), so their TFLOP/s compare directly;
 * bytes are X + W as each stores it + Y. cuBLAS gets the unpruned weight — the dense layer 2:4 replaces — and the
 * 2:4 kernel its magnitude-pruned half. Before timing, each output is spot-checked against the host.
 */
public final class TwoFourGemmBenchmark extends CaseSweepBenchmark<TwoFourGemmCase> {
    static final String NAME = "two-four-gemm";
    /** Host memory the prepared weights may keep between cases (a 16384² weight takes 800 MiB). */
    static final long WEIGHT_CACHE_BYTES = 1536L << 20;

    private final String selection;

    public TwoFourGemmBenchmark() {
        this(null);
    }

    /** @param selection the cases to run ({@link TwoFourGemmSweep#select}); null reads the configured one at run time */
    TwoFourGemmBenchmark(String selection) {
        super(NAME);
        this.selection = selection;
    }

    @Override
    public List<BenchResult> run(BenchContext context) {
        String chosen = selection != null ? selection : TwoFourGemmSweep.configuredSelection();
        boolean wgmma = LacunaConfig.flag("wgmmaSparse");
        TwoFourGemmData.WeightCache weights = new TwoFourGemmData.WeightCache(WEIGHT_CACHE_BYTES);
        return runEach(TwoFourGemmSweep.select(chosen), chosen, wgmma ? ", lacuna.wgmmaSparse on" : "",
                c -> runCase(context, c, weights, wgmma));
    }

    @Override
    String id(TwoFourGemmCase c) {
        return c.id();
    }

    private static List<BenchResult> runCase(BenchContext context, TwoFourGemmCase c,
                                             TwoFourGemmData.WeightCache weights, boolean wgmma) {
        TwoFourGemmData.Weight weight = weights.get(c.out(), c.in(), c.dtype());
        short[] x = TwoFourGemmData.activations(c.tokens(), c.in(), c.dtype());
        int[] tokens = TwoFourGemmData.checkedTokens(c.tokens());
        float[][] xRows = new float[tokens.length][];
        for (int t = 0; t < tokens.length; t++) {
            xRows[t] = TwoFourGemmData.fromHalves(x, (long) tokens[t] * c.in(), c.in(), c.dtype());
        }
        Backend backend = context.backend();
        GemmOps ops = backend.ops().gemm();
        MemorySegment xHost = MemorySegment.ofArray(x);

        BenchResult dense;
        try (TwoFourGemmRotation operands = TwoFourGemmRotation.allocate(context, List.of(
                ArraySpec.of(c.dtype(), c.tokens(), c.in()), ArraySpec.of(c.dtype(), c.out(), c.in())),
                ArraySpec.of(c.dtype(), c.tokens(), c.out()))) {
            operands.inputs().uploadToEveryCopy(xHost, weight.denseSegment());
            DeviceArray[] xs = perCopy(operands, copy -> operands.input(copy, 0));
            DeviceArray[] ws = perCopy(operands, copy -> operands.input(copy, 1));
            DeviceArray[] ys = perCopy(operands, operands::output);
            ops.linearDense(xs[0], ws[0], null, Activation.NONE, ys[0]);
            String check = TwoFourGemmData.check(tokens, readRows(backend, ys[0], tokens), xRows,
                    weight.checkedColumns(), weight.denseRows(), c.dtype());
            dense = describe(context.measure("dense"), c).param("outputCheck", check)
                    .work(Work.of(c.flops(), c.denseBytes()))
                    .rotation(operands.rotation())
                    .measure(i -> {
                        int copy = operands.rotation().copyFor(i);
                        ops.linearDense(xs[copy], ws[copy], null, Activation.NONE, ys[copy]);
                    });
        }

        BenchResult twoFour;
        var compressed = weight.twoFour();
        try (TwoFourGemmRotation operands = TwoFourGemmRotation.allocate(context, List.of(
                ArraySpec.of(c.dtype(), c.tokens(), c.in()),
                ArraySpec.of(c.dtype(), compressed.paddedOut(), compressed.paddedIn() / 2),
                ArraySpec.of(DType.I32, compressed.metadataByteSize() / Integer.BYTES)),
                ArraySpec.of(c.dtype(), c.tokens(), c.out()))) {
            operands.inputs().uploadToEveryCopy(xHost, compressed.valuesSegment(), compressed.metadataSegment());
            DeviceArray[] xs = perCopy(operands, copy -> operands.input(copy, 0));
            TwoFourWeight[] ws = new TwoFourWeight[operands.copies()];
            for (int copy = 0; copy < ws.length; copy++) {
                ws[copy] = new TwoFourWeight(operands.input(copy, 1), operands.input(copy, 2), compressed.out(),
                        compressed.in(), compressed.paddedOut(), compressed.paddedIn());
            }
            DeviceArray[] ys = perCopy(operands, operands::output);
            ops.linearTwoFour(xs[0], ws[0], null, Activation.NONE, ys[0]);
            String check = TwoFourGemmData.check(tokens, readRows(backend, ys[0], tokens), xRows,
                    weight.checkedColumns(), weight.prunedRows(), c.dtype());
            BenchContext.Case described = describe(context.measure("twofour"), c).param("outputCheck", check);
            if (wgmma) {
                described.param("wgmmaSparse", true);
            }
            twoFour = described.work(Work.of(c.flops(), c.activationBytes() + weight.storedTwoFourBytes()))
                    .rotation(operands.rotation())
                    .measure(i -> {
                        int copy = operands.rotation().copyFor(i);
                        ops.linearTwoFour(xs[copy], ws[copy], null, Activation.NONE, ys[copy]);
                    });
        } catch (NotSupportedException e) {
            // The dense row still stands, and says why it has no 2:4 partner.
            System.out.printf("   %s: linearTwoFour not supported: %s%n", c.id(), e.getMessage());
            return List.of(withParam(dense, "twofour", "not supported: " + e.getMessage()));
        }
        return List.of(twoFour.withAnchor(dense), dense);
    }

    private static BenchContext.Case describe(BenchContext.Case target, TwoFourGemmCase c) {
        c.params().forEach(target::param);
        return target;
    }

    private static DeviceArray[] perCopy(TwoFourGemmRotation operands, IntFunction<DeviceArray> array) {
        DeviceArray[] all = new DeviceArray[operands.copies()];
        for (int copy = 0; copy < all.length; copy++) {
            all[copy] = array.apply(copy);
        }
        return all;
    }

    /** Reads rows {@code tokens} of y [tokens, out] back as floats (after the launch that wrote them finishes). */
    static float[][] readRows(Backend backend, DeviceArray y, int[] tokens) {
        backend.synchronize();
        long out = y.shape().columns();
        long rowBytes = out * y.dtype().byteSize();
        float[][] rows = new float[tokens.length][];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(rowBytes, 8);
            for (int t = 0; t < tokens.length; t++) {
                backend.download(y.buffer(), y.byteOffset() + tokens[t] * rowBytes, row, rowBytes);
                rows[t] = new float[(int) out];
                for (int o = 0; o < out; o++) {
                    short bits = row.getAtIndex(ValueLayout.JAVA_SHORT, o);
                    rows[t][o] = y.dtype() == DType.BF16 ? HalfFloats.fromBf16(bits) : HalfFloats.fromF16(bits);
                }
            }
        }
        return rows;
    }

    private static BenchResult withParam(BenchResult r, String key, Object value) {
        var params = new java.util.LinkedHashMap<>(r.params());
        params.put(key, value);
        return new BenchResult(r.name(), params, r.timer(), r.samples(), r.launchesPerSample(), r.iterations(),
                r.warmupLaunches(), r.medianMs(), r.minMs(), r.p10Ms(), r.p90Ms(), r.maxMs(), r.meanMs(), r.flops(),
                r.bytes(), r.achievedTflops(), r.achievedGBps(), r.memoryFloorMs(), r.peakBandwidthFraction(),
                r.rotationCopies(), r.workingSetBytes(), r.anchor());
    }

    @Override
    String summary(TwoFourGemmCase c, List<BenchResult> measured) {
        StringBuilder line = new StringBuilder(c.id()).append(':');
        for (BenchResult r : measured) {
            line.append(String.format(Locale.ROOT, " %s %.4f ms %.1f TFLOP/s", r.name(), r.medianMs(),
                    r.achievedTflops()));
            if (r.anchor() != null) {
                line.append(String.format(Locale.ROOT, " (%.2fx),", r.anchor().speedup()));
            }
            Object check = r.params().get("outputCheck");
            if (check != null && !"ok".equals(check)) {
                line.append(" [").append(r.name()).append(' ').append(check).append(']');
            }
        }
        return line.toString();
    }
}
