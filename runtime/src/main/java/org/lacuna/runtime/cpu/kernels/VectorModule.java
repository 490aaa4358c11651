package org.lacuna.runtime.cpu.kernels;

/**
 * Whether {@code jdk.incubator.vector} is in the boot layer: the one check that gates every Vector API kernel (a JVM
 * without the module never loads their classes).
 */
public final class VectorModule {
    private static final boolean PRESENT = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private VectorModule() {
    }

    public static boolean present() {
        return PRESENT;
    }
}
