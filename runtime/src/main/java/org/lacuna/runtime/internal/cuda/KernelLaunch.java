package org.lacuna.runtime.internal.cuda;

import java.util.Map;

/**
 * One kernel launch as a CUDA op decides it: the specialisation ({@code file} with {@code constants}, entry point
 * {@code entry}), the grid, the block, the dynamic shared memory and the arguments in the kernel's order. The ops
 * hand it to {@link KernelModules}; the kernel emulator's fixtures record it, so that the emulated kernels are launched
 * exactly as the Java side would launch them on a GPU.
 */
record KernelLaunch(String file, String entry, Map<String, String> constants, long gridX, long gridY, int block,
                    int sharedBytes, KernelArguments arguments) {
    KernelLaunch {
        constants = Map.copyOf(constants);
    }
}
