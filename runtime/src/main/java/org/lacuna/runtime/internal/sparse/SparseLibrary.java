package org.lacuna.runtime.internal.sparse;

/** A cuSPARSE library found and bound (no handle yet, no GPU needed); opens handles on demand. */
public interface SparseLibrary {
    /** Which binding on which file, with cuSPARSE's version. */
    String description();

    /** A new cuSPARSE handle in the calling thread's current CUDA context; the caller closes it. */
    SparseBinding open();
}
