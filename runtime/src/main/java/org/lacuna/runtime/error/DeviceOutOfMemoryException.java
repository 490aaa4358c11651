package org.lacuna.runtime.error;

/** An allocation failed even after the pool released everything it had cached. */
public class DeviceOutOfMemoryException extends LacunaException {
    private static final long serialVersionUID = 1L;
    private final long requestedBytes;

    public DeviceOutOfMemoryException(String call, long requestedBytes, String detail) {
        super(ErrorCode.OUT_OF_MEMORY, call, "out of device memory allocating " + requestedBytes + " bytes" + (detail.isEmpty() ? "" : " (" + detail + ")"));
        this.requestedBytes = requestedBytes;
    }

    public long requestedBytes() {
        return requestedBytes;
    }
}
