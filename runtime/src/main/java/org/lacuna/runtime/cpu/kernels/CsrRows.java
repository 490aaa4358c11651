package org.lacuna.runtime.cpu.kernels;

/**
 * An unstructured sparse weight W[out, in] in CSR, with its values widened once to fp32, in the form the CPU kernels
 * read. The caller has checked that the row offsets never decrease, stay within the non-zeros, and that every column
 * lies in {@code [0, in)}, so the kernels index x panels without bounds checks of their own.
 */
public final class CsrRows {
    private final int out;
    private final int in;
    private final int[] rowOffsets;
    private final int[] columns;
    private final float[] values;

    /**
     * @param rowOffsets [out + 1], row r holds entries {@code rowOffsets[r] .. rowOffsets[r + 1] - 1}
     * @param columns    [nnz] dense column of each entry
     * @param values     [nnz] fp32 value of each entry
     */
    public CsrRows(int out, int in, int[] rowOffsets, int[] columns, float[] values) {
        if (rowOffsets.length != out + 1 || columns.length != values.length) {
            throw new IllegalArgumentException("CSR of " + out + " rows needs " + (out + 1) + " offsets and as many "
                    + "columns as values, got " + rowOffsets.length + ", " + columns.length + ", " + values.length);
        }
        this.out = out;
        this.in = in;
        this.rowOffsets = rowOffsets;
        this.columns = columns;
        this.values = values;
    }

    public int out() {
        return out;
    }

    public int in() {
        return in;
    }

    public int nonZeros() {
        return values.length;
    }

    int[] rowOffsets() {
        return rowOffsets;
    }

    int[] columns() {
        return columns;
    }

    float[] values() {
        return values;
    }
}
