package org.lacuna.runtime.gemm;

import java.util.Arrays;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * A weight W[out, in] in compressed sparse rows, built once on the host from its dense form: int32 row offsets and
 * column indices (sorted within each row) and the non-zero values rounded to the storage dtype.
 */
public record CsrMatrix(int out, int in, int[] rowOffsets, int[] columns, float[] values, DType dtype) {
    public CsrMatrix {
        rowOffsets = rowOffsets.clone();
        columns = columns.clone();
        values = values.clone();
    }

    /** Keeps every entry that is non-zero after rounding to {@code dtype}; NaN and infinities are rejected. */
    public static CsrMatrix fromDense(float[] w, int out, int in, DType dtype) {
        if (!dtype.isFloatingPoint()) {
            throw InvalidInputException.dtype("CsrMatrix.fromDense", "values must be F32, F16 or BF16, got " + dtype);
        }
        if (out <= 0 || in <= 0 || w.length != (long) out * in) {
            throw InvalidInputException.shape("CsrMatrix.fromDense", w.length + " values do not form a " + out + "x" + in + " matrix");
        }
        int[] offsets = new int[out + 1];
        int count = 0;
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                throw InvalidInputException.argument("CsrMatrix.fromDense", "weight[" + i / in + "][" + i % in + "] is " + w[i]);
            }
            if (HalfFloats.roundTo(dtype, w[i]) != 0f) {
                count++;
            }
        }
        int[] columns = new int[count];
        float[] values = new float[count];
        int next = 0;
        for (int r = 0; r < out; r++) {
            offsets[r] = next;
            for (int c = 0; c < in; c++) {
                float v = HalfFloats.roundTo(dtype, w[r * in + c]);
                if (v != 0f) {
                    columns[next] = c;
                    values[next++] = v;
                }
            }
        }
        offsets[out] = next;
        return new CsrMatrix(out, in, offsets, columns, values, dtype);
    }

    public int nonZeros() {
        return values.length;
    }

    public float[] toDense() {
        float[] dense = new float[out * in];
        for (int r = 0; r < out; r++) {
            for (int i = rowOffsets[r]; i < rowOffsets[r + 1]; i++) {
                dense[r * in + columns[i]] = values[i];
            }
        }
        return dense;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CsrMatrix m && out == m.out && in == m.in && dtype == m.dtype
                && Arrays.equals(rowOffsets, m.rowOffsets) && Arrays.equals(columns, m.columns)
                && Arrays.equals(values, m.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(rowOffsets) * 31 + Arrays.hashCode(columns);
    }

    @Override
    public String toString() {
        return "CsrMatrix[" + out + "x" + in + ", nnz " + nonZeros() + ", " + dtype + "]";
    }
}
