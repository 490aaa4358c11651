package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The serving CPU backend's attention at BERT-base (12 x 64) and MiniLM (12 x 32) shapes, fp16, non-causal, Q/K/V
 * packed: dense, the token-dropping layer at keep 0.5 (select, gather, attention over the kept tokens, scatter), and
 * the selection alone. GFLOP/s of the dense call = 4 · batch · seq² · heads · headDim / time.
 */
public class CpuAttentionBenchmark extends CpuBenchmarkSettings.WithVectorApi {
    @Param({"64", "32"})
    int headDim;
    @Param({"1", "8"})
    int batch;
    @Param({"128", "512"})
    int seq;

    static final int HEADS = 12;
    Backend backend;
    AttentionOptions options;
    SequenceBatch sequences;
    DeviceArray qkv;
    DeviceArray out;
    DeviceArray scores;
    SelectionRule rule;
    TokenSelection selection;
    DeviceArray gathered;
    DeviceArray keptOut;

    @Setup
    public void setUp() {
        backend = new CpuBackendProvider().open(0);
        options = AttentionOptions.of(HEADS, headDim);
        int rows = batch * seq;
        int[] offsets = new int[batch + 1];
        for (int b = 0; b < batch; b++) {
            offsets[b + 1] = offsets[b] + seq;
        }
        sequences = new SequenceBatch(HostData.upload(backend, Shape.of(batch + 1), offsets), rows, seq);
        SplittableRandom random = new SplittableRandom(7);
        float[] values = new float[rows * 3 * options.width()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-1.5, 1.5);
        }
        float[] s = new float[rows];
        for (int i = 0; i < rows; i++) {
            s[i] = (float) random.nextDouble();
        }
        qkv = HostData.upload(backend, DType.F16, Shape.of(rows, 3L * options.width()), values);
        out = HostData.upload(backend, DType.F16, Shape.of(rows, options.width()), new float[rows * options.width()]);
        scores = HostData.upload(backend, DType.F32, Shape.of(rows), s);
        rule = SelectionRule.keepRatio(0.5).pinningPrefix(1);
        selection = TokenSelection.allocate(backend, sequences, rule, false);
        long capacity = selection.capacity();
        gathered = HostData.upload(backend, DType.F16, Shape.of(capacity, 3L * options.width()),
                new float[Math.toIntExact(capacity * 3 * options.width())]);
        keptOut = HostData.upload(backend, DType.F16, Shape.of(capacity, options.width()),
                new float[Math.toIntExact(capacity * options.width())]);
    }

    @TearDown
    public void tearDown() {
        selection.close();
        backend.close();
    }

    @Benchmark
    public DeviceArray dense() {
        backend.ops().attention().attention(AttentionInputs.packed(qkv), sequences, options, out, null);
        return out;
    }

    @Benchmark
    public DeviceArray tokenDroppingHalf() {
        var ops = backend.ops().attention();
        ops.selectTokens(scores, sequences, null, rule, selection);
        ops.gatherRows(qkv, selection, gathered);
        ops.attention(AttentionInputs.packed(gathered), selection.keptBatch(), options, keptOut, null);
        ops.scatterRows(keptOut, selection, out, out);
        return out;
    }

    @Benchmark
    public TokenSelection selectionOnly() {
        backend.ops().attention().selectTokens(scores, sequences, null, rule, selection);
        return selection;
    }
}
