package org.lacuna.runtime.internal.blas;

/** A cuBLAS library found and bound (no handle yet, no GPU needed); opens handles on demand. */
public interface BlasLibrary {
    /** Which binding on which file, with cuBLAS's version, e.g. "JCuda JCublas2 on /x/libcublas.so.12 (cuBLAS 12.9.1)". */
    String description();

    /** A new cuBLAS handle in the calling thread's current CUDA context; the caller closes it. */
    BlasBinding open();
}
