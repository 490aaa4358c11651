package org.lacuna.api.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.TestSessions;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.backend.DeviceInfo;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.backend.MemoryStats;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.backend.Backends;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.OpFamilies;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.schedule.Decision;
import org.lacuna.runtime.schedule.DeviceKey;
import org.lacuna.runtime.schedule.EfficiencyTable;
import org.lacuna.runtime.schedule.KernelRate;
import org.lacuna.runtime.schedule.OpPaths;
import org.lacuna.runtime.schedule.Policy;
import org.lacuna.runtime.schedule.Scheduler;
import org.lacuna.runtime.schedule.TuningStore;

class LinearTest {
    private static float[] random(SplittableRandom random, int n, DType dtype) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = HalfFloats.roundTo(dtype, (float) random.nextDouble(-1, 1));
        }
        return v;
    }

    private static double[] reference(float[] x, float[] w, float[] b, Activation act, int tokens, int out, int in) {
        double[] y = new double[tokens * out];
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                double acc = b == null ? 0 : b[o];
                for (int k = 0; k < in; k++) {
                    acc += (double) x[t * in + k] * HalfFloats.roundTo(DType.F16, w[o * in + k]);
                }
                y[t * out + o] = act.apply(acc);
            }
        }
        return y;
    }

    @Test
    void everyKernelComputesTheSameLayer() {
        SplittableRandom random = new SplittableRandom(5);
        int tokens = 9;
        int out = 37;
        int in = 70;
        float[] w = TwoFourPruning.prune(random(random, out * in, DType.F32), out, in);
        float[] b = random(random, out, DType.F32);
        float[] x = random(random, tokens * in, DType.F16);
        double[] want = reference(x, w, b, Activation.GELU, tokens, out, in);
        try (Session s = Lacuna.open("cpu", 0); Tensor xs = s.fromFloats(x, DType.F16, tokens, in)) {
            for (LinearKernel kernel : LinearKernel.values()) {
                Linear layer = Linear.create(s, w, out, in, b, Linear.Options.of(DType.F16)
                        .withOutputType(DType.F32).withActivation(Activation.GELU).forcing(kernel));
                float[] got = layer.forward(xs).toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-4, kernel + " at " + i);
                }
                assertEquals(List.of(kernel), layer.candidates());
                layer.close();
            }
        }
    }

    @Test
    void statisticsDecideWhichFormsTheLayerKeeps() {
        SplittableRandom random = new SplittableRandom(6);
        int out = 64;
        int in = 64;
        float[] dense = random(random, out * in, DType.F32);
        float[] twoFour = TwoFourPruning.prune(dense, out, in);
        float[] verySparse = new float[out * in];
        for (int i = 0; i < verySparse.length; i += 50) {
            verySparse[i] = 1f;
        }
        try (Session s = Lacuna.open("cpu", 0)) {
            assertEquals(List.of(LinearKernel.DENSE),
                    Linear.create(s, dense, out, in, null, Linear.Options.of(DType.F16)).candidates());
            assertEquals(List.of(LinearKernel.TWO_FOUR, LinearKernel.DENSE),
                    Linear.create(s, twoFour, out, in, null, Linear.Options.of(DType.BF16)).candidates());
            assertEquals(List.of(LinearKernel.DENSE),
                    Linear.create(s, twoFour, out, in, null, Linear.Options.of(DType.F32)).candidates(),
                    "the sparse tensor cores take 16-bit types only");
            Linear sparse = Linear.create(s, verySparse, out, in, null, Linear.Options.of(DType.F16));
            assertEquals(LinearKernel.CSR, sparse.candidates().get(0));
            assertTrue(sparse.statistics().density() < 0.05);
            Linear pruned = Linear.create(s, dense, out, in, null, Linear.Options.of(DType.F16).pruned());
            assertTrue(pruned.statistics().twoFourConformant());
            assertEquals(0.5, pruned.statistics().density(), 1e-9);
            // The session's scheduler chose among the forms the layer holds, once for the bucket of 3 tokens.
            try (Tensor x = s.fromFloats(random(random, 3 * in, DType.F16), DType.F16, 3, in)) {
                pruned.forward(x).close();
            }
            var decision = pruned.decisions().get(4L).getFirst();
            assertTrue(decision.candidates().stream().anyMatch(c -> c.name().equals("two-four")),
                    decision.candidates()::toString);
            assertEquals(Linear.kernelOf(decision.chosen()), pruned.kernelFor(3));
        }
    }

    @Test
    void aWeightThatIsNotTwoFourIsRefusedForTheTwoFourKernelUnlessPruned() {
        float[] w = {1, 2, 3, 0, 0, 0, 0, 0};
        try (Session s = Lacuna.open("cpu", 0)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Linear.create(s, w, 2, 4, null,
                    Linear.Options.of(DType.F16).forcing(LinearKernel.TWO_FOUR)));
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().contains("row 0, columns 0..3"), e.getMessage());
            Linear pruned = Linear.create(s, w, 2, 4, null, Linear.Options.of(DType.F16).pruned().forcing(LinearKernel.TWO_FOUR));
            try (Tensor x = s.fromFloats(new float[] {1, 1, 1, 1}, DType.F16, 1, 4)) {
                float[] y = pruned.forward(x).toFloatArray();
                assertEquals(5f, y[0], "pruning keeps 2 and 3, drops 1");
                assertEquals(0f, y[1]);
            }
        }
    }

    @Test
    void badInputsAndLifetimes() {
        try (Session s = Lacuna.open("cpu", 0)) {
            assertThrows(InvalidInputException.class, () -> Linear.create(s, new float[5], 2, 3, null, Linear.Options.of(DType.F16)));
            assertThrows(InvalidInputException.class, () -> Linear.create(s, new float[] {Float.NaN, 0}, 1, 2, null,
                    Linear.Options.of(DType.F16)));
            assertThrows(InvalidInputException.class, () -> Linear.create(s, new float[4], 2, 2, new float[3],
                    Linear.Options.of(DType.F16)));
            Linear layer = Linear.create(s, new float[] {1, 0, 0, 1}, 2, 2, null, Linear.Options.of(DType.F16));
            try (Tensor wrongType = s.fromFloats(new float[] {1, 2}, DType.F32, 1, 2);
                 Tensor wrongShape = s.fromFloats(new float[] {1, 2, 3}, DType.F16, 1, 3)) {
                assertEquals(ErrorCode.DTYPE_MISMATCH, assertThrows(InvalidInputException.class,
                        () -> layer.forward(wrongType)).code());
                assertEquals(ErrorCode.SHAPE_MISMATCH, assertThrows(InvalidInputException.class,
                        () -> layer.forward(wrongShape)).code());
            }
            InvalidInputException nullInput = assertThrows(InvalidInputException.class, () -> layer.forward(null));
            assertTrue(nullInput.getMessage().contains("Linear.forward") && nullInput.getMessage().contains("null"),
                    nullInput.getMessage());
            Tensor closedInput = s.fromFloats(new float[] {1, 2}, DType.F16, 1, 2);
            closedInput.close();
            assertThrows(ResourceClosedException.class, () -> layer.forward(closedInput));
            long inUse = s.memoryStats().inUseBytes();
            layer.close();
            layer.close();
            assertTrue(s.memoryStats().inUseBytes() < inUse, "closing a layer frees its weights");
            try (Tensor x = s.fromFloats(new float[] {1, 2}, DType.F16, 1, 2)) {
                assertThrows(ResourceClosedException.class, () -> layer.forward(x));
            }
        }
    }

    @Test
    void closingTheSessionFreesLayersItOwns() {
        Session s = Lacuna.open("cpu", 0);
        Linear.create(s, new float[64 * 64], 64, 64, new float[64], Linear.Options.of(DType.F16));
        assertTrue(s.memoryStats().inUseBytes() > 0);
        s.close();
        assertEquals(0, s.memoryStats().inUseBytes());
    }

    /**
     * A bucket whose route is not offered for some of its token counts (a path that needs more tokens than they
     * have) plans a second route for them once: later such inputs ask the scheduler nothing, run that route, and
     * {@link Linear#kernelFor} and {@link Linear#decisions} say so.
     */
    @Test
    void aBucketsCountsItsRouteIsNotOfferedForArePlannedOnce() {
        SplittableRandom random = new SplittableRandom(8);
        int out = 48;
        int in = 64;
        float[] w = TwoFourPruning.prune(random(random, out * in, DType.F32), out, in);
        float[] b = random(random, out, DType.F32);
        Backend cpu = Backends.survey().stream().filter(c -> c.provider().name().equals("cpu")).findFirst()
                .orElseThrow().provider().open(0);
        TokenGatedOps ops = new TokenGatedOps(cpu.ops());
        try (Session s = TestSessions.on(new GatedBackend(cpu, ops))) {
            // The wide 2:4 path predicted fastest where offered; below its token count, dense beats the narrow one.
            EfficiencyTable table = new EfficiencyTable(150e9, 20e9, 5e-6, 2, Map.of(
                    "cpu.blas-dense", new KernelRate(150e9, 20e9, 5e-6),
                    "cpu.vector-dense", new KernelRate(120e9, 20e9, 5e-6),
                    "cpu.two-four-narrow", new KernelRate(1e9, 1e9, 1e-3),
                    "cpu.two-four-wide", new KernelRate(1e13, 1e13, 1e-7)), "test table");
            Scheduler scheduler = new Scheduler(DeviceKey.of(s.backendName(), s.device()), table,
                    TuningStore.inMemory(), Policy.predictedOnly(), s.backend()::newTimer);
            s.useScheduler(scheduler);
            Linear layer = Linear.create(s, w, out, in, b, Linear.Options.of(DType.F16).withOutputType(DType.F32));

            forwardAndCheck(s, layer, random, w, b, 60);
            assertEquals(1, scheduler.decisionsAsked());
            assertEquals(1, ops.calls("two-four-wide"));
            for (int tokens : new int[] {35, 33, 38, 35, 39}) { // the same bucket (33..64), below the wide path
                forwardAndCheck(s, layer, random, w, b, tokens);
            }
            assertEquals(2, scheduler.decisionsAsked(), "the counts below the wide path are planned once");
            assertEquals(1, ops.calls("two-four-wide"));
            assertEquals(5, ops.calls("-dense"), "the second route ran");
            assertEquals(LinearKernel.DENSE, layer.kernelFor(35));
            assertEquals(LinearKernel.TWO_FOUR, layer.kernelFor(45), "offered for 45: the bucket's first route");
            forwardAndCheck(s, layer, random, w, b, 45);
            forwardAndCheck(s, layer, random, w, b, 36);
            assertEquals(2, scheduler.decisionsAsked());
            assertEquals(2, ops.calls("two-four-wide"));
            assertEquals(6, ops.calls("-dense"));
            List<Decision> bucket = layer.decisions().get(64L);
            assertEquals(2, bucket.size(), bucket::toString);
            assertEquals("two-four-wide", bucket.get(0).chosen());
            assertEquals(LinearKernel.DENSE, Linear.kernelOf(bucket.get(1).chosen()));
        }
    }

    private static void forwardAndCheck(Session s, Linear layer, SplittableRandom random, float[] w, float[] b,
                                        int tokens) {
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        float[] x = random(random, tokens * in, DType.F16);
        double[] want = reference(x, w, b, Activation.NONE, tokens, out, in);
        try (Tensor xs = s.fromFloats(x, DType.F16, tokens, in); Tensor y = layer.forward(xs)) {
            float[] got = y.toFloatArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-4, tokens + " tokens, element " + i);
            }
        }
    }

    /**
     * The CPU's ops with a second 2:4 path offered only from {@link #WIDE_FROM} tokens on, as a GPU kernel that needs
     * full tiles is: {@code two-four-wide} beside {@code two-four-narrow}, both the CPU's 2:4 kernel; counts each
     * path's calls.
     */
    private static final class TokenGatedOps extends OpFamilies implements OpPaths {
        static final long WIDE_FROM = 40;
        private final OpSet cpu;
        private final Map<String, Integer> calls = new ConcurrentHashMap<>();

        TokenGatedOps(OpSet cpu) {
            super(cpu.elementwise(), cpu.gemm(), cpu.attention(), cpu.convolution(), cpu.voxelization());
            this.cpu = cpu;
        }

        /** Calls of the path named {@code name}, or of every path whose name ends with it when it starts with '-'. */
        int calls(String name) {
            return calls.entrySet().stream().filter(e -> name.startsWith("-") ? e.getKey().endsWith(name)
                    : e.getKey().equals(name)).mapToInt(Map.Entry::getValue).sum();
        }

        @Override
        public List<String> denseLinearPaths() {
            return ((OpPaths) cpu).denseLinearPaths();
        }

        @Override
        public void linearDense(String path, DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation,
                                DeviceArray y) {
            calls.merge(path + "-dense", 1, Integer::sum);
            ((OpPaths) cpu).linearDense(path, x, w, bias, activation, y);
        }

        @Override
        public List<String> twoFourPaths(long tokens) {
            return tokens >= WIDE_FROM ? List.of("two-four-narrow", "two-four-wide") : List.of("two-four-narrow");
        }

        @Override
        public void linearTwoFour(String path, DeviceArray x, TwoFourWeight w, DeviceArray bias,
                                  Activation activation, DeviceArray y) {
            calls.merge(path, 1, Integer::sum);
            cpu.gemm().linearTwoFour(x, w, bias, activation, y);
        }
    }

    /** The CPU backend with {@link TokenGatedOps}. */
    private record GatedBackend(Backend cpu, TokenGatedOps ops) implements Backend {
        @Override
        public String name() {
            return cpu.name();
        }

        @Override
        public DeviceInfo device() {
            return cpu.device();
        }

        @Override
        public DeviceBuffer allocate(long bytes) {
            return cpu.allocate(bytes);
        }

        @Override
        public void upload(MemorySegment source, DeviceBuffer target, long offset, long bytes) {
            cpu.upload(source, target, offset, bytes);
        }

        @Override
        public void download(DeviceBuffer source, long offset, MemorySegment target, long bytes) {
            cpu.download(source, offset, target, bytes);
        }

        @Override
        public void fill(DeviceBuffer target, long offset, long bytes, byte value) {
            cpu.fill(target, offset, bytes, value);
        }

        @Override
        public void synchronize() {
            cpu.synchronize();
        }

        @Override
        public DeviceTimer newTimer() {
            return cpu.newTimer();
        }

        @Override
        public MemoryStats memoryStats() {
            return cpu.memoryStats();
        }

        @Override
        public TransferStats transferStats() {
            return cpu.transferStats();
        }

        @Override
        public boolean isClosed() {
            return cpu.isClosed();
        }

        @Override
        public void close() {
            cpu.close();
        }
    }

    @Test
    void tokenBuckets() {
        assertEquals(1, Linear.tokenBucket(1));
        assertEquals(16, Linear.tokenBucket(9));
        assertEquals(16, Linear.tokenBucket(16));
        assertEquals(2048, Linear.tokenBucket(2000));
    }
}
