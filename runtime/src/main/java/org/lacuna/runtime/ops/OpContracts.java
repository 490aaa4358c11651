package org.lacuna.runtime.ops;

import java.util.Set;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;

/** The checks every op family's contracts share: arrays open and on the backend, float types, overlaps. */
public final class OpContracts {
    private static final Set<DType> FLOATS = Set.of(DType.F32, DType.F16, DType.BF16);

    private OpContracts() {
    }

    /** Every array non-null, open and on {@code backend}: the check all op families share. */
    static void requireOpen(String call, String backend, DeviceArray... arrays) {
        for (DeviceArray a : arrays) {
            if (a == null) {
                throw InvalidInputException.argument(call, "a tensor argument is null");
            }
            a.checkOpen(call);
            if (!a.buffer().backendName().equals(backend)) {
                throw InvalidInputException.argument(call, "a tensor lives on the " + a.buffer().backendName()
                        + " backend but this op runs on " + backend);
            }
        }
    }

    static void requireFloat(String call, String name, DeviceArray a) {
        if (!FLOATS.contains(a.dtype())) {
            throw InvalidInputException.dtype(call, name + " must be F32, F16 or BF16, got " + a.dtype());
        }
    }

    /**
     * In-place is only safe where input and output are the very same elements of the same width; the message names
     * the two arrays ({@code inName}, {@code outName}) as the op's signature does.
     */
    static void requireNoOverlap(String call, String inName, DeviceArray in, String outName, DeviceArray out) {
        if (in.buffer() != out.buffer()) {
            return;
        }
        long inEnd = in.byteOffset() + in.byteSize();
        long outEnd = out.byteOffset() + out.byteSize();
        boolean overlap = in.byteOffset() < outEnd && out.byteOffset() < inEnd;
        boolean identical = in.byteOffset() == out.byteOffset() && in.dtype() == out.dtype() && in.shape().equals(out.shape());
        if (overlap && !identical) {
            throw InvalidInputException.argument(call, inName + " and " + outName
                    + " overlap partially in the same buffer");
        }
    }

    /** Whether the two arrays share any byte. */
    static boolean overlaps(DeviceArray a, DeviceArray b) {
        return a.buffer() == b.buffer() && a.byteOffset() < b.byteOffset() + b.byteSize()
                && b.byteOffset() < a.byteOffset() + a.byteSize();
    }
}
