package org.lacuna.runtime.internal.nativelib;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;

/** {@code cudaDataType} values from CUDA's library_types.h, for the element types cuBLAS and cuSPARSE get here. */
public final class CudaDataType {
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;

    private CudaDataType() {
    }

    /**
     * The CUDA type of a floating-point operand.
     *
     * @throws InvalidInputException for a type the fp32-compute library paths do not take
     */
    public static int of(DType type, String call, String operand) {
        if (type == null) {
            throw InvalidInputException.dtype(call, operand + " has no dtype");
        }
        return switch (type) {
            case F32 -> CUDA_R_32F;
            case F16 -> CUDA_R_16F;
            case BF16 -> CUDA_R_16BF;
            default -> throw InvalidInputException.dtype(call,
                    operand + " must be F16, BF16 or F32, not " + type);
        };
    }
}
