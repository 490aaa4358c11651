package org.lacuna.runtime.schedule;

import java.util.List;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.sparseconv.KernelMap;

/**
 * The implementations a backend offers side by side for one op, each computing exactly the op's function: what the
 * scheduler turns into {@link Candidate}s. A backend's op set implements it where it has more than one path for an
 * op; an op it does not list has its one, default, path. Paths are named as the scheduler reports them.
 */
public interface OpPaths {
    /** The dense linear's paths, e.g. {@code blas} and {@code vector} on the CPU, {@code cublas} on a GPU. */
    List<String> denseLinearPaths();

    /** The dense linear by {@code path}, one of {@link #denseLinearPaths()}; arguments as the op set's. */
    void linearDense(String path, DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y);

    /** The 2:4 linear's paths for inputs of {@code tokens} rows ({@code mma.sp}, {@code wgmma.sp}); empty: one. */
    default List<String> twoFourPaths(long tokens) {
        return List.of();
    }

    /** The 2:4 linear by {@code path}, one of {@link #twoFourPaths}. */
    default void linearTwoFour(String path, DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation,
                               DeviceArray y) {
        throw new NotSupportedException("linearTwoFour", "no 2:4 path " + path);
    }

    /**
     * The sparse convolution's paths (on a GPU: gather-GEMM-scatter and the implicit GEMM over unsorted, sorted or
     * split-sorted tiles); empty where the backend has one.
     */
    default List<String> convolutionPaths() {
        return List.of();
    }

    /** The sparse convolution by {@code path}, one of {@link #convolutionPaths()}. */
    default void sparseConvolution(String path, DeviceArray x, KernelMap map, DeviceArray weights, DeviceArray bias,
                                   Activation activation, DeviceArray y) {
        throw new NotSupportedException("sparseConvolution", "no convolution path " + path);
    }
}
