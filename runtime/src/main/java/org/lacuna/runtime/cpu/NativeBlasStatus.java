package org.lacuna.runtime.cpu;

/** Whether a native BLAS serves dense GEMM on the CPU, and why not. Filled in by the native BLAS binding. */
final class NativeBlasStatus {
    private NativeBlasStatus() {
    }

    static String describe(CpuOptions options) {
        if (!options.nativeBlas()) {
            return "native BLAS off (lacuna.cpu.blas=false)";
        }
        return "native BLAS not bound yet; Java GEMM serves";
    }
}
