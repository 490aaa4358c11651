package org.lacuna.runtime.internal.nativelib;

import java.lang.reflect.Constructor;
import jcuda.Pointer;
import jcuda.runtime.cudaStream_t;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.LacunaException;

/**
 * JCuda objects for raw addresses. Lacuna passes device pointers and streams as plain {@code long}s; JCuda wants its
 * own wrapper objects and offers no public way to make one from an address.
 */
public final class JcudaPointers {
    private JcudaPointers() {
    }

    /** A JCuda pointer to device memory at {@code address}. */
    public static Pointer device(long address) {
        return new AddressPointer(address);
    }

    /** A JCuda stream for a {@code CUstream} address; 0 is the default stream. */
    public static cudaStream_t stream(long address) {
        if (address == 0) {
            return new cudaStream_t();
        }
        try {
            return StreamConstructor.INSTANCE.newInstance(address);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new LacunaException(ErrorCode.INTERNAL, "cudaStream_t",
                    "cannot wrap stream 0x" + Long.toHexString(address) + " for JCuda: " + Failures.describe(e), e);
        }
    }

    /** {@code Pointer(long)} is protected: a subclass may call it. */
    private static final class AddressPointer extends Pointer {
        AddressPointer(long address) {
            super(address);
        }
    }

    /** {@code cudaStream_t(long)} is package-private in JCuda; found once, by reflection. */
    private static final class StreamConstructor {
        static final Constructor<cudaStream_t> INSTANCE = find();

        private static Constructor<cudaStream_t> find() {
            try {
                Constructor<cudaStream_t> constructor = cudaStream_t.class.getDeclaredConstructor(long.class);
                constructor.setAccessible(true);
                return constructor;
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalStateException("JCuda's cudaStream_t(long) constructor is not accessible", e);
            }
        }
    }
}
