package org.lacuna.bench.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;

/**
 * The foundation's memory-bound kernels (fused bias + activation, cast, row reduction) at transformer-sized
 * shapes. Each moves its bytes once, so the memory floor at the device's bandwidth is the yardstick.
 */
public final class ElementwiseOpsBenchmark implements GpuBenchmark {
    static final int ROWS = 16_384;
    static final int COLS = 4_096;

    @Override
    public String name() {
        return "elementwise";
    }

    @Override
    public List<BenchResult> run(BenchContext context) {
        ElementwiseOps ops = context.backend().ops().elementwise();
        long elements = (long) ROWS * COLS;
        List<BenchResult> results = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment halves = randomHalves(arena, elements, DType.F16);
            MemorySegment floats = randomFloats(arena, elements);
            MemorySegment bias = randomFloats(arena, COLS);

            for (Activation activation : new Activation[] {Activation.RELU, Activation.GELU}) {
                try (RotatingArrays inputs = context.allocateRotating(List.of(ArraySpec.of(DType.F16, ROWS, COLS),
                        ArraySpec.of(DType.F32, COLS), ArraySpec.of(DType.F16, ROWS, COLS)))) {
                    inputs.uploadToEveryCopy(halves, bias, null);
                    results.add(context.measure("bias-" + activation.kernelName() + "-f16")
                            .param("rows", ROWS).param("cols", COLS)
                            .work(Work.of(elements * (activation == Activation.GELU ? 10 : 2), elements * 4 + COLS * 4L))
                            .rotation(inputs)
                            .measure(i -> ops.biasActivation(inputs.array(i, 0), inputs.array(i, 1), activation,
                                    inputs.array(i, 2))));
                }
            }
            try (RotatingArrays inputs = context.allocateRotating(List.of(ArraySpec.of(DType.F32, ROWS, COLS),
                    ArraySpec.of(DType.BF16, ROWS, COLS)))) {
                inputs.uploadToEveryCopy(floats, null);
                results.add(context.measure("cast-f32-bf16").param("rows", ROWS).param("cols", COLS)
                        .work(Work.of(elements, elements * 6)).rotation(inputs)
                        .measure(i -> ops.cast(inputs.array(i, 0), inputs.array(i, 1))));
            }
            try (RotatingArrays inputs = context.allocateRotating(List.of(ArraySpec.of(DType.F16, ROWS, COLS),
                    ArraySpec.of(DType.F32, ROWS)))) {
                inputs.uploadToEveryCopy(halves, null);
                results.add(context.measure("row-l2-f16").param("rows", ROWS).param("cols", COLS)
                        .work(Work.of(elements * 2, elements * 2 + ROWS * 4L)).rotation(inputs)
                        .measure(i -> ops.rowReduce(inputs.array(i, 0), RowReduction.L2, inputs.array(i, 1))));
            }
        }
        return results;
    }

    /** Random values in [-4, 4): never zeros, so no timing is flattered by sparse or trivial data. */
    static MemorySegment randomHalves(Arena arena, long count, DType dtype) {
        SplittableRandom random = new SplittableRandom(7);
        MemorySegment segment = arena.allocate(count * 2, 64);
        for (long i = 0; i < count; i++) {
            float v = (float) random.nextDouble(-4, 4);
            segment.setAtIndex(ValueLayout.JAVA_SHORT, i, dtype == DType.BF16 ? HalfFloats.toBf16(v) : HalfFloats.toF16(v));
        }
        return segment;
    }

    static MemorySegment randomFloats(Arena arena, long count) {
        SplittableRandom random = new SplittableRandom(11);
        MemorySegment segment = arena.allocate(count * 4, 64);
        for (long i = 0; i < count; i++) {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble(-4, 4));
        }
        return segment;
    }
}
