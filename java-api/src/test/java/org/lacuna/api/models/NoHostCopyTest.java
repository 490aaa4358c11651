package org.lacuna.api.models;

/** {@link HostCopyFreeForwards} on the CPU backend. */
class NoHostCopyTest extends HostCopyFreeForwards {
    @Override
    protected String backend() {
        return "cpu";
    }

    @Override
    protected boolean voxelisesOnADevice() {
        return false;
    }
}
