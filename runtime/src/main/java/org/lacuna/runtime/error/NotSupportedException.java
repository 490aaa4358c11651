package org.lacuna.runtime.error;

/** A capability gap: the device, backend or build cannot do what was asked (not a bug, not bad input). */
public class NotSupportedException extends LacunaException {
    private static final long serialVersionUID = 1L;

    public NotSupportedException(String call, String message) {
        super(ErrorCode.NOT_SUPPORTED, call, message);
    }
}
