package org.lacuna.runtime.error;

/** Bad input from the caller: wrong shape, wrong dtype, out-of-range or non-finite values. */
public class InvalidInputException extends LacunaException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(ErrorCode code, String call, String message) {
        super(code, call, message);
    }

    public static InvalidInputException shape(String call, String message) {
        return new InvalidInputException(ErrorCode.SHAPE_MISMATCH, call, message);
    }

    public static InvalidInputException dtype(String call, String message) {
        return new InvalidInputException(ErrorCode.DTYPE_MISMATCH, call, message);
    }

    public static InvalidInputException argument(String call, String message) {
        return new InvalidInputException(ErrorCode.INVALID_ARGUMENT, call, message);
    }
}
