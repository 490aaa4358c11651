package org.lacuna.runtime.error;

/** A session, tensor, buffer or native handle was used after it was closed. */
public class ResourceClosedException extends LacunaException {
    private static final long serialVersionUID = 1L;

    public ResourceClosedException(String call, String what) {
        super(ErrorCode.CLOSED, call, what + " is closed");
    }
}
