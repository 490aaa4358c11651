package org.lacuna.runtime.cpu;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.GemmOps;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The GEMM family of the serving CPU backend: dense weights through native BLAS ({@link CpuDenseLinear}), 2:4 and
 * CSR weights through the sparse tile kernels ({@link CpuSparseLinear}). The dense linear has up to two paths
 * (OpenBLAS and the Java GEMM), offered side by side to the scheduler.
 */
final class CpuGemmOps implements GemmOps, AutoCloseable {
    /** The OpenBLAS GEMM path's name. */
    static final String BLAS_PATH = "blas";

    private final CpuDenseLinear dense;
    /** The dense linear on each GEMM path this backend has, for the scheduler to compare. */
    private final Map<String, CpuDenseLinear> densePaths = new LinkedHashMap<>();
    private final CpuSparseLinear sparse;

    CpuGemmOps(CpuContext context) {
        this.dense = new CpuDenseLinear(context);
        if (dense.path() == CpuDenseLinear.GemmPath.NATIVE_BLAS) {
            densePaths.put(BLAS_PATH, dense);
            densePaths.put(javaPath(context), new CpuDenseLinear(context, CpuDenseLinear.GemmPath.JAVA));
        } else {
            densePaths.put(javaPath(context), dense);
        }
        this.sparse = new CpuSparseLinear(context);
    }

    /** The Java GEMM's path: {@code vector} where the Vector API serves it, else {@code java} (scalar). */
    private static String javaPath(CpuContext context) {
        return context.vectorApi() ? "vector" : "java";
    }

    List<String> denseLinearPaths() {
        return List.copyOf(densePaths.keySet());
    }

    void linearDense(String path, DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation,
                     DeviceArray y) {
        CpuDenseLinear linear = densePaths.get(path);
        if (linear == null) {
            throw new NotSupportedException("linearDense", "the CPU backend has no dense path '" + path
                    + "'; it has " + densePaths.keySet());
        }
        linear.linear(x, w, bias, activation, y);
    }

    @Override
    public void linearDense(DeviceArray x, DeviceArray w, DeviceArray bias, Activation activation, DeviceArray y) {
        dense.linear(x, w, bias, activation, y);
    }

    @Override
    public void linearTwoFour(DeviceArray x, TwoFourWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        sparse.linearTwoFour(x, w, bias, activation, y);
    }

    @Override
    public void linearCsr(DeviceArray x, CsrWeight w, DeviceArray bias, Activation activation, DeviceArray y) {
        sparse.linearCsr(x, w, bias, activation, y);
    }

    @Override
    public void close() {
        sparse.close();
    }
}
