package org.lacuna.runtime.ops;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.Shape;

/**
 * What every family's conformance suite shares: one backend under test per class, opened before the first test and
 * closed after the last, and outputs poisoned before each run so that an element the backend forgot to write fails
 * the check. Subclasses supply the backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendConformance {
    protected Backend backend;

    protected abstract Backend openBackend();

    @BeforeAll
    void open() {
        backend = openBackend();
    }

    @AfterAll
    void close() {
        if (backend != null) {
            backend.close();
        }
    }

    /** A new array of {@code dtype} and {@code shape}, every byte 0xFF: NaN in F32, F16 and BF16, -1 in I32. */
    protected DeviceArray poisoned(DType dtype, Shape shape) {
        DeviceArray array = new DeviceArray(backend.allocate(shape.elementCount() * dtype.byteSize()), 0, dtype, shape);
        backend.fill(array.buffer(), 0, array.byteSize(), (byte) 0xFF);
        return array;
    }
}
