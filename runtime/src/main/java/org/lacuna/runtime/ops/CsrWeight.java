package org.lacuna.runtime.ops;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * An unstructured sparse weight W[out, in] in CSR on a backend: int32 {@code rowOffsets} [out+1], int32
 * {@code columns} [nnz] (sorted within each row), {@code values} [nnz] of F32, F16 or BF16.
 */
public record CsrWeight(DeviceArray rowOffsets, DeviceArray columns, DeviceArray values, int out, int in) {
    public CsrWeight {
        String call = "CsrWeight";
        if (rowOffsets.dtype() != DType.I32 || columns.dtype() != DType.I32) {
            throw InvalidInputException.dtype(call, "CSR indices must be I32");
        }
        if (!values.dtype().isFloatingPoint()) {
            throw InvalidInputException.dtype(call, "CSR values must be F32, F16 or BF16, got " + values.dtype());
        }
        if (out <= 0 || in <= 0 || rowOffsets.elementCount() != out + 1L) {
            throw InvalidInputException.shape(call, "row offsets " + rowOffsets.shape() + " do not fit " + out + " rows");
        }
        if (columns.elementCount() != values.elementCount()) {
            throw InvalidInputException.shape(call, columns.elementCount() + " columns but " + values.elementCount() + " values");
        }
    }

    public long nonZeros() {
        return values.elementCount();
    }
}
