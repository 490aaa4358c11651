package org.lacuna.runtime.error;

/** A native library (libcuda, NVRTC, cuBLAS, cuSPARSE) could not be found or loaded; the message lists every place tried and the loader's own error. */
public class LibraryLoadException extends LacunaException {
    private static final long serialVersionUID = 1L;

    public LibraryLoadException(String library, String message, Throwable cause) {
        super(ErrorCode.LIBRARY_LOAD, "load " + library, message, cause);
    }
}
