package org.lacuna.runtime.error;

/** A file or byte stream is missing, truncated or malformed. Names the source and what is wrong. */
public class MalformedInputException extends LacunaException {
    private static final long serialVersionUID = 1L;

    public MalformedInputException(String source, String message) {
        super(ErrorCode.MALFORMED_INPUT, source, message);
    }

    public MalformedInputException(String source, String message, Throwable cause) {
        super(ErrorCode.MALFORMED_INPUT, source, message, cause);
    }
}
