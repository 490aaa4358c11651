package org.lacuna.runtime.internal.cuda;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.lacuna.kernels.KernelSources;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Cases for the emulated elementwise and normalisation kernels ({@code bias_activation.cu}, {@code cast.cu}, {@code
 * row_reduce.cu}, {@code residual_add.cu}, {@code batch_norm.cu}, {@code concat_columns.cu}, {@code layer_norm.cu};
 * the {@code ew_*} directories): for every variant a kernel declares, the matching Java operands in ragged shapes
 * (one element; odd widths; more rows than the row kernels start blocks, and more elements than the grid-stride
 * kernels start threads, so both loops wrap; in-place add and batch norm; absent bias and beta; NaN, infinities,
 * overflow and subnormals for the cast), the launch {@link ElementwiseLaunches} makes for them on a device of {@link
 * #MULTIPROCESSORS} SM (recorded by {@link LaunchRecorder}: the emulator launches from it) and the {@code
 * cpu-reference} backend's result of the same {@link ElementwiseOps} call. Empty operands are not written: the CUDA
 * ops launch nothing for them.
 */
public final class ElementwiseFixtures {
    /** One SM: 8 blocks for the grid-stride kernels, 32 for the row kernels, so the shapes below wrap both. */
    static final int MULTIPROCESSORS = 1;

    private ElementwiseFixtures() {
    }

    /** Writes the cases; returns how many. */
    public static int write(Path root) {
        Random random = new Random(43);
        try (Backend reference = new ReferenceBackendProvider().open(0)) {
            ElementwiseOps ops = reference.ops().elementwise();
            Cases cases = new Cases(root, reference);
            for (Map<String, String> v : variants("bias_activation.cu")) {
                Activation act = byKernelName(Activation.values(), Activation::kernelName, v.get("ACT"));
                DType in = dtype(v.get("T_IN")), out = dtype(v.get("T_OUT"));
                long[][] shapes = {{1, 1}, {3, 37}, {7, 300}, {33, 130}};
                for (int s = 0; s < shapes.length; s++) {
                    try (Case c = cases.open("bias_activation")) {
                        Shape shape = Shape.of(shapes[s]);
                        DeviceArray x = c.input("x", in, shape, values(random, in, shape.elementCount(), 4));
                        DeviceArray bias = s % 2 == 1
                                ? c.input("bias", DType.F32, Shape.of(shapes[s][1]), values(random, DType.F32, shapes[s][1], 1))
                                : null;
                        DeviceArray y = c.output("y", out, shape);
                        ops.biasActivation(x, bias, act, y);
                        c.expect("y", y, relative(out), 1e-6);
                        c.finish(c.launches().biasActivation(x, bias, act, y));
                    }
                }
            }
            for (Map<String, String> v : variants("cast.cu")) {
                DType in = dtype(v.get("T_IN")), out = dtype(v.get("T_OUT"));
                for (long[] dims : new long[][] {{1, 1}, {3, 37}, {33, 130}}) {
                    try (Case c = cases.open("cast")) {
                        Shape shape = Shape.of(dims);
                        DeviceArray x = c.input("x", in, shape, castValues(random, in, shape.elementCount()));
                        DeviceArray y = c.output("y", out, shape);
                        ops.cast(x, y);
                        c.expect("y", y, 0, 0);
                        c.finish(c.launches().cast(x, y));
                    }
                }
            }
            for (Map<String, String> v : variants("row_reduce.cu")) {
                RowReduction op = byKernelName(RowReduction.values(), RowReduction::kernelName, v.get("OP"));
                DType in = dtype(v.get("T_IN"));
                for (long[] dims : new long[][] {{1, 1}, {3, 300}, {33, 130}, {2, 1000}}) {
                    try (Case c = cases.open("row_reduce")) {
                        Shape shape = Shape.of(dims);
                        DeviceArray x = c.input("x", in, shape, values(random, in, shape.elementCount(), 2));
                        DeviceArray y = c.output("y", DType.F32, Shape.of(dims[0]));
                        ops.rowReduce(x, op, y);
                        // Float sums in the kernel against one rounding of a double sum: error grows with the row.
                        c.expect("y", y, 1e-6, 2e-7 * dims[1]);
                        c.finish(c.launches().rowReduce(x, op, y));
                    }
                }
            }
            for (Map<String, String> v : variants("residual_add.cu")) {
                DType dtype = dtype(v.get("T_IN"));
                long[][] shapes = {{1, 1}, {3, 37}, {33, 130}};
                for (int s = 0; s < shapes.length; s++) {
                    try (Case c = cases.open("residual_add")) {
                        Shape shape = Shape.of(shapes[s]);
                        boolean inPlace = s == 2;
                        DeviceArray a = c.input("a", dtype, shape, values(random, dtype, shape.elementCount(), 4));
                        DeviceArray b = c.input("b", dtype, shape, values(random, dtype, shape.elementCount(), 4));
                        DeviceArray y = inPlace ? a : c.output("y", dtype, shape);
                        ops.add(a, b, y);
                        c.expect(inPlace ? "a" : "y", y, relative(dtype), 1e-6);
                        c.finish(c.launches().add(a, b, y));
                    }
                }
            }
            for (Map<String, String> v : variants("batch_norm.cu")) {
                DType in = dtype(v.get("T_IN")), out = dtype(v.get("T_OUT"));
                long[][] shapes = {{1, 1}, {3, 37}, {33, 130}, {7, 5}};
                for (int s = 0; s < shapes.length; s++) {
                    try (Case c = cases.open("batch_norm")) {
                        Shape shape = Shape.of(shapes[s]);
                        long channels = shapes[s][1];
                        boolean inPlace = s == 2 && in == out;
                        DeviceArray x = c.input("x", in, shape, values(random, in, shape.elementCount(), 4));
                        DeviceArray scale = c.input("scale", DType.F32, Shape.of(channels),
                                values(random, DType.F32, channels, 2));
                        DeviceArray shift = c.input("shift", DType.F32, Shape.of(channels),
                                values(random, DType.F32, channels, 1));
                        DeviceArray y = inPlace ? x : c.output("y", out, shape);
                        ops.batchNorm(x, scale, shift, y);
                        c.expect(inPlace ? "x" : "y", y, relative(out), 1e-6);
                        c.finish(c.launches().batchNorm(x, scale, shift, y));
                    }
                }
            }
            for (Map<String, String> v : variants("concat_columns.cu")) {
                DType dtype = v.get("WIDTH").equals("4") ? DType.F32 : DType.BF16;
                for (long[] dims : new long[][] {{1, 1, 1}, {5, 7, 3}, {33, 64, 1}, {3, 3, 130}}) {
                    try (Case c = cases.open("concat_columns")) {
                        long rows = dims[0];
                        DeviceArray a = c.input("a", dtype, Shape.of(rows, dims[1]),
                                castValues(random, dtype, rows * dims[1]));
                        DeviceArray b = c.input("b", dtype, Shape.of(rows, dims[2]),
                                castValues(random, dtype, rows * dims[2]));
                        DeviceArray y = c.output("y", dtype, Shape.of(rows, dims[1] + dims[2]));
                        ops.concatColumns(a, b, y);
                        c.expect("y", y, 0, 0);
                        c.finish(c.launches().concatColumns(a, b, y));
                    }
                }
            }
            for (Map<String, String> v : variants("layer_norm.cu")) {
                DType in = dtype(v.get("T_IN")), out = dtype(v.get("T_OUT"));
                long[][] shapes = {{1, 1}, {5, 7}, {3, 256}, {33, 130}, {2, 3000}};
                for (int s = 0; s < shapes.length; s++) {
                    try (Case c = cases.open("layer_norm")) {
                        Shape shape = Shape.of(shapes[s]);
                        long cols = shapes[s][1];
                        float[] xs = values(random, in, shape.elementCount(), 3);
                        for (int i = 0; i < xs.length; i++) {
                            xs[i] = HalfFloats.roundTo(in, xs[i] + 2);  // a mean away from zero
                        }
                        DeviceArray x = c.input("x", in, shape, xs);
                        float[] gammas = values(random, DType.F32, cols, 0.5);
                        for (int i = 0; i < gammas.length; i++) {
                            gammas[i] += 1;
                        }
                        DeviceArray gamma = c.input("gamma", DType.F32, Shape.of(cols), gammas);
                        DeviceArray beta = s == 1 ? null
                                : c.input("beta", DType.F32, Shape.of(cols), values(random, DType.F32, cols, 1));
                        DeviceArray y = c.output("y", out, shape);
                        ops.layerNorm(x, gamma, beta, 1e-5, y);
                        // Mean and variance in float over up to 3000 columns against the double reference.
                        c.expect("y", y, Math.max(relative(out), 2e-5), 2e-5);
                        c.finish(c.launches().layerNorm(x, gamma, beta, 1e-5, y));
                    }
                }
            }
            return cases.written;
        }
    }

    /** Numbers the case directories. */
    private static final class Cases {
        private final Path root;
        private final Backend reference;
        private int written;

        Cases(Path root, Backend reference) {
            this.root = root;
            this.reference = reference;
        }

        Case open(String kernel) {
            return new Case(root.resolve(String.format("ew_%03d_%s", written++, kernel)), reference);
        }
    }

    /** One case directory: named operands on the reference backend, its result, the recorded launch. */
    private static final class Case implements AutoCloseable {
        private final EmulationFixture fixture;
        private final Backend reference;
        private final Closer closer = new Closer("ElementwiseFixtures");
        private final LaunchRecorder recorder;

        Case(Path dir, Backend reference) {
            this.fixture = new EmulationFixture(dir);
            this.reference = reference;
            this.recorder = new LaunchRecorder(fixture, "");
        }

        ElementwiseLaunches launches() {
            return new ElementwiseLaunches(recorder, MULTIPROCESSORS);
        }

        DeviceArray input(String name, DType dtype, Shape shape, float[] values) {
            DeviceArray array = HostData.upload(reference, dtype, shape, values);
            closer.register(array.buffer());
            recorder.name(array, name);
            putValues(fixture, name, dtype, values);
            return array;
        }

        /** An output, poisoned with NaN on the reference side too (a value it never writes shows). */
        DeviceArray output(String name, DType dtype, Shape shape) {
            float[] poison = new float[Math.toIntExact(shape.elementCount())];
            Arrays.fill(poison, Float.NaN);
            DeviceArray array = HostData.upload(reference, dtype, shape, poison);
            closer.register(array.buffer());
            recorder.name(array, name);
            return array;
        }

        /**
         * The reference's result for buffer {@code name}, which the emulated kernel must match within {@code
         * relative * |want| + absolute} (0 and 0: bit for bit, NaN for NaN).
         */
        void expect(String name, DeviceArray result, double relative, double absolute) {
            fixture.array("want_" + name, HostData.downloadFloats(reference, result))
                    .meta("expect." + name, relative + " " + absolute);
        }

        void finish(KernelLaunch launch) {
            recorder.write(List.of(launch));
            fixture.finish();
        }

        @Override
        public void close() {
            closer.close();
        }
    }

    /** One unit in the last place of the output type, relative: both sides round to it from nearby values. */
    private static double relative(DType out) {
        return switch (out) {
            case F16 -> 1e-3;
            case BF16 -> 8e-3;
            default -> 2e-6;
        };
    }

    private static List<Map<String, String>> variants(String file) {
        return KernelSources.shipped().kernel(file).variants();
    }

    private static DType dtype(String kernelName) {
        return byKernelName(DType.values(), DType::kernelName, kernelName);
    }

    private static <T> T byKernelName(T[] values, Function<T, String> name, String wanted) {
        return Arrays.stream(values).filter(v -> name.apply(v).equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no value with kernel name " + wanted));
    }

    private static float[] values(Random random, DType dtype, long count, double scale) {
        float[] out = new float[Math.toIntExact(count)];
        for (int i = 0; i < out.length; i++) {
            out[i] = HalfFloats.roundTo(dtype, (float) ((random.nextDouble() * 2 - 1) * scale));
        }
        return out;
    }

    /** Values over 2^-30..2^20 with NaN, infinities, values past F16's range and subnormals among them. */
    private static float[] castValues(Random random, DType dtype, long count) {
        float[] out = new float[Math.toIntExact(count)];
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -1e30f, 70000f, 3e-6f, -0f};
        for (int i = 0; i < out.length; i++) {
            float v = (float) ((random.nextDouble() * 6 - 3) * Math.pow(2, random.nextInt(51) - 30));
            if (i % 13 == 5) {
                v = special[(i / 13) % special.length];
            }
            out[i] = HalfFloats.roundTo(dtype, v);
        }
        return out;
    }

    private static void putValues(EmulationFixture fixture, String name, DType dtype, float[] values) {
        if (dtype == DType.F32) {
            fixture.array(name, values);
            return;
        }
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = dtype == DType.F16 ? HalfFloats.toF16(values[i]) : HalfFloats.toBf16(values[i]);
        }
        fixture.array(name, bits);
    }
}
