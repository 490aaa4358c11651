package org.lacuna.runtime.error;

/**
 * Root of every exception Lacuna throws. Carries the call that failed and a stable {@link ErrorCode},
 * so callers can react without parsing messages.
 */
public class LacunaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;
    private final String call;

    public LacunaException(ErrorCode code, String call, String message) {
        this(code, call, message, null);
    }

    public LacunaException(ErrorCode code, String call, String message, Throwable cause) {
        super(call == null || call.isEmpty() ? message : call + ": " + message, cause);
        this.code = code;
        this.call = call == null ? "" : call;
    }

    public ErrorCode code() {
        return code;
    }

    /** The API or native call that failed, e.g. {@code cuMemAlloc} or {@code Tensor.download}. */
    public String call() {
        return call;
    }
}
