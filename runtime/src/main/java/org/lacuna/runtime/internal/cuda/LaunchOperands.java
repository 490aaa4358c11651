package org.lacuna.runtime.internal.cuda;

import org.lacuna.runtime.data.DeviceArray;

/**
 * Where a launch's memory operands come from: on the GPU, an array's device address and the call's workspace
 * uploads; for the kernel emulator's fixtures (a test's recorder), named buffers written beside the fixture.
 */
interface LaunchOperands {
    /** Arrays by their device address, for launches that upload nothing. */
    LaunchOperands DEVICE_ADDRESSES = (arguments, array, call) ->
            arguments.pointer(array == null ? null : ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset()));

    /** Adds {@code array} as a pointer argument (null: the null pointer of an absent optional operand). */
    void add(KernelArguments arguments, DeviceArray array, String call);

    /** Uploads host-built {@code values} for the launches; the device address ({@code name} names it in a record). */
    default long upload(String name, int[] values) {
        throw new UnsupportedOperationException("no workspace for " + name);
    }

    default long upload(String name, long[] values) {
        throw new UnsupportedOperationException("no workspace for " + name);
    }

    /** Scratch of {@code bytes} for the launches, contents undefined. */
    default long acquire(String name, long bytes) {
        throw new UnsupportedOperationException("no workspace for " + name);
    }
}
