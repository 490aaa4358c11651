/**
 * Lacuna's runtime: the backend SPI and the backends that implement it (chosen through {@link java.util.ServiceLoader}),
 * the tensor data types, the exception hierarchy, the op interfaces per family with their value types, and the
 * diagnostics report.
 *
 * <p>Exported packages are the API. Everything else is implementation and may change without notice: the backends
 * ({@code cpu}, {@code cpu.kernels}, {@code internal.*}), the kernel compiler ({@code compile}) and the device memory
 * pool ({@code memory}).
 *
 * <p>The Vector API module is optional ({@code requires static}): without {@code --add-modules jdk.incubator.vector}
 * the CPU backend runs its scalar kernels.
 */
module org.lacuna.runtime {
    requires static jdk.incubator.vector;
    requires java.management;
    requires org.lacuna.kernels;
    requires jcuda;
    requires jcublas;
    requires jcusparse;
    requires com.fasterxml.jackson.databind;

    exports org.lacuna.runtime.attention;
    exports org.lacuna.runtime.backend;
    exports org.lacuna.runtime.data;
    exports org.lacuna.runtime.diagnostics;
    exports org.lacuna.runtime.error;
    exports org.lacuna.runtime.gemm;
    exports org.lacuna.runtime.lifetime;
    exports org.lacuna.runtime.math;
    exports org.lacuna.runtime.ops;
    exports org.lacuna.runtime.pointcloud;
    exports org.lacuna.runtime.sparseconv;
    exports org.lacuna.runtime.schedule;

    uses org.lacuna.runtime.backend.BackendProvider;

    provides org.lacuna.runtime.backend.BackendProvider with
            org.lacuna.runtime.internal.cuda.CudaBackendProvider,
            org.lacuna.runtime.cpu.CpuBackendProvider,
            org.lacuna.runtime.cpu.ReferenceBackendProvider;
}
