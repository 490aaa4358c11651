package org.lacuna.runtime.internal.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A CUdeviceptr whose raw address can be read (JCuda keeps it protected), so the pool and the library bindings can
 * work with plain addresses. Filled in by cuMemAlloc.
 */
final class DevicePointer extends CUdeviceptr {
    long address() {
        return getNativePointer() + getByteOffset();
    }

    /** A JCuda pointer to a raw device address (JCuda adds the byte offset to a null base). */
    static CUdeviceptr at(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }
}
