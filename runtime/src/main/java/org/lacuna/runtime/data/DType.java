package org.lacuna.runtime.data;

/** Element types Lacuna tensors hold. */
public enum DType {
    F32(4, "float"),
    F16(2, "half"),
    BF16(2, "bfloat16"),
    I32(4, "int32"),
    I64(8, "int64");

    private final int byteSize;
    private final String displayName;

    DType(int byteSize, String displayName) {
        this.byteSize = byteSize;
        this.displayName = displayName;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The name the kernels' specialisation constants use (e.g. {@code -DLACUNA_T_IN=f16}). */
    public String kernelName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public String displayName() {
        return displayName;
    }
}
