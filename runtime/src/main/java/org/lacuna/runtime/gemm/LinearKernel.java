package org.lacuna.runtime.gemm;

/** The ways a linear layer can multiply by its weight. */
public enum LinearKernel {
    /** cuBLAS GemmEx (CPU: the reference loop) on the dense weight. */
    DENSE,
    /** Lacuna's sparse tensor-core kernel on the 2:4-compressed weight. */
    TWO_FOUR,
    /** cuSPARSE SpMM on the CSR weight, for very sparse unstructured weights. */
    CSR
}
