package org.lacuna.runtime.memory;

/** The allocator underneath a {@link CachingPool}: cuMemAlloc/cuMemFree on a GPU, a fake in tests. */
public interface RawAllocator {
    /**
     * @return the address of a fresh block of exactly {@code bytes}
     * @throws org.lacuna.runtime.error.DeviceOutOfMemoryException when the device has no room
     */
    long allocate(long bytes);

    void free(long address, long bytes);
}
