package org.lacuna.runtime.internal.cuda;

import jcuda.driver.CUstream;

/** A CUstream whose raw handle can be handed to cuBLAS/cuSPARSE bindings that take addresses. */
final class StreamHandle extends CUstream {
    long address() {
        return getNativePointer();
    }
}
