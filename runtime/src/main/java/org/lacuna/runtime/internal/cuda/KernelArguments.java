package org.lacuna.runtime.internal.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.error.NotSupportedException;

/**
 * The parameter list of one kernel launch, in the kernel's declared order: device pointers and 32- or 64-bit
 * scalars. {@link #pack()} makes the {@code kernelParams} array {@code cuLaunchKernel} takes (one pointer to each
 * value). The sizes follow the CUDA ABI (a pointer, a {@code long long} and a {@code double} are 8 bytes, an
 * {@code int} and a {@code float} 4, each aligned to its size), which is how the parameter block's size is checked
 * against the driver's 4 KiB limit.
 */
final class KernelArguments {
    /** CUDA's limit on a kernel's parameter block (without the 32 KiB opt-in of Volta and later). */
    static final int MAX_PARAMETER_BYTES = 4096;

    /** The C type of one parameter. */
    enum Kind {
        POINTER(8), I32(4), I64(8), F32(4), F64(8);

        final int bytes;

        Kind(int bytes) {
            this.bytes = bytes;
        }
    }

    private final List<Kind> kinds = new ArrayList<>();
    private final List<Pointer> slots = new ArrayList<>();
    private final List<Number> values = new ArrayList<>();

    /** A device pointer; null passes the null pointer (an optional operand the kernel skips). */
    KernelArguments pointer(CUdeviceptr pointer) {
        CUdeviceptr value = pointer == null ? new CUdeviceptr() : pointer;
        return add(Kind.POINTER, Pointer.to(value), pointer == null ? 0L : null);
    }

    /** A raw device address. */
    KernelArguments address(long address) {
        return add(Kind.POINTER, Pointer.to(DevicePointer.at(address)), address);
    }

    KernelArguments i32(int value) {
        return add(Kind.I32, Pointer.to(new int[] {value}), value);
    }

    KernelArguments i64(long value) {
        return add(Kind.I64, Pointer.to(new long[] {value}), value);
    }

    KernelArguments f32(float value) {
        return add(Kind.F32, Pointer.to(new float[] {value}), value);
    }

    KernelArguments f64(double value) {
        return add(Kind.F64, Pointer.to(new double[] {value}), value);
    }

    private KernelArguments add(Kind kind, Pointer slot, Number value) {
        kinds.add(kind);
        slots.add(slot);
        values.add(value);
        return this;
    }

    int count() {
        return kinds.size();
    }

    List<Kind> kinds() {
        return List.copyOf(kinds);
    }

    /** The scalar (or raw address) at {@code index}; null for a JCuda pointer whose address JCuda keeps to itself. */
    Number value(int index) {
        return values.get(index);
    }

    /** Byte offset of each parameter in the parameter block, each aligned to its size. */
    int[] offsets() {
        int[] offsets = new int[kinds.size()];
        int offset = 0;
        for (int i = 0; i < offsets.length; i++) {
            int size = kinds.get(i).bytes;
            offset = (offset + size - 1) / size * size;
            offsets[i] = offset;
            offset += size;
        }
        return offsets;
    }

    /** The parameter block's size: the last offset plus its size. */
    int byteSize() {
        int[] offsets = offsets();
        return offsets.length == 0 ? 0 : offsets[offsets.length - 1] + kinds.getLast().bytes;
    }

    /**
     * The {@code kernelParams} array.
     *
     * @param kernel named in a failure
     * @throws NotSupportedException if the parameters exceed {@link #MAX_PARAMETER_BYTES}
     */
    Pointer pack(String kernel) {
        int bytes = byteSize();
        if (bytes > MAX_PARAMETER_BYTES) {
            throw new NotSupportedException("cuLaunchKernel", kernel + ": " + count() + " parameters take " + bytes
                    + " bytes, over CUDA's " + MAX_PARAMETER_BYTES);
        }
        return Pointer.to(slots.toArray(Pointer[]::new));
    }
}
