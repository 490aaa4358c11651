package org.lacuna.bench.gpu;

import java.util.Objects;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.Shape;

/** The type and shape of one array in a benchmark's input set. */
public record ArraySpec(DType dtype, Shape shape) {
    public ArraySpec {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
    }

    public static ArraySpec of(DType dtype, long... dims) {
        return new ArraySpec(dtype, Shape.of(dims));
    }

    public long byteSize() {
        return Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
    }
}
