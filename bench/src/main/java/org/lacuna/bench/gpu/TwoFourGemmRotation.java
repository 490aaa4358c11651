package org.lacuna.bench.gpu;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.runtime.data.DeviceArray;

/**
 * The rotated operands of a linear layer: the inputs (X and W) in one {@link RotatingArrays}, Y in another with the
 * same number of copies — the ops refuse an x and a y that share a buffer. The copies are planned for the whole set
 * (inputs and output), which is what each launch touches and what {@link #rotation()} reports.
 */
final class TwoFourGemmRotation implements AutoCloseable {
    private final RotatingArrays inputs;
    private final RotatingArrays outputs;
    private final InputRotation rotation;

    private TwoFourGemmRotation(RotatingArrays inputs, RotatingArrays outputs, InputRotation rotation) {
        this.inputs = inputs;
        this.outputs = outputs;
        this.rotation = rotation;
    }

    static TwoFourGemmRotation allocate(BenchContext context, List<ArraySpec> inputSpecs, ArraySpec outputSpec) {
        List<ArraySpec> all = new ArrayList<>(inputSpecs);
        all.add(outputSpec);
        InputRotation plan = context.rotationFor(RotatingArrays.layOut(all, new long[all.size()]));
        RotatingArrays.RotationPlanner sameCopies =
                setBytes -> new InputRotation(setBytes, plan.copies(), plan.workingSetTarget());
        RotatingArrays inputs = RotatingArrays.allocate(context.backend(), inputSpecs, sameCopies);
        try {
            return new TwoFourGemmRotation(inputs,
                    RotatingArrays.allocate(context.backend(), List.of(outputSpec), sameCopies), plan);
        } catch (RuntimeException | Error e) {
            inputs.close();
            throw e;
        }
    }

    RotatingArrays inputs() {
        return inputs;
    }

    InputRotation rotation() {
        return rotation;
    }

    int copies() {
        return rotation.copies();
    }

    /** Input {@code index} of copy {@code copy}. */
    DeviceArray input(int copy, int index) {
        return inputs.array(copy, index);
    }

    /** Y of copy {@code copy}. Left as allocated: every launch overwrites it whole. */
    DeviceArray output(int copy) {
        return outputs.array(copy, 0);
    }

    @Override
    public void close() {
        try {
            outputs.close();
        } finally {
            inputs.close();
        }
    }
}
