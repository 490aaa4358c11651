package org.lacuna.api.io;

/**
 * One field of a PCD header: its name, SIZE (bytes per element), TYPE ({@code I} signed, {@code U} unsigned,
 * {@code F} floating point) and COUNT (elements per point).
 */
record PcdField(String name, int size, char type, int count) {
    /** The scalar type SIZE and TYPE name together, or null if they name none (e.g. {@code F} of size 2). */
    public ScalarType scalarType() {
        return switch (type) {
            case 'I' -> switch (size) {
                case 1 -> ScalarType.INT8;
                case 2 -> ScalarType.INT16;
                case 4 -> ScalarType.INT32;
                case 8 -> ScalarType.INT64;
                default -> null;
            };
            case 'U' -> switch (size) {
                case 1 -> ScalarType.UINT8;
                case 2 -> ScalarType.UINT16;
                case 4 -> ScalarType.UINT32;
                case 8 -> ScalarType.UINT64;
                default -> null;
            };
            case 'F' -> switch (size) {
                case 4 -> ScalarType.FLOAT32;
                case 8 -> ScalarType.FLOAT64;
                default -> null;
            };
            default -> null;
        };
    }

    /** Bytes this field takes in one point. */
    public int byteSize() {
        return size * count;
    }
}
