package org.lacuna.runtime.error;

/** Stable, machine-readable category of a {@link LacunaException}. */
public enum ErrorCode {
    /** An argument is outside what the call accepts (range, NaN, duplicate, ...). */
    INVALID_ARGUMENT,
    /** Tensor shapes do not fit together. */
    SHAPE_MISMATCH,
    /** A tensor has a dtype the call does not accept. */
    DTYPE_MISMATCH,
    /** A session, tensor or native handle was used after close. */
    CLOSED,
    /** The device (or the pool) could not satisfy an allocation. */
    OUT_OF_MEMORY,
    /** A CUDA driver, runtime or library call returned an error. */
    CUDA_ERROR,
    /** NVRTC rejected a kernel; the message carries the log. */
    COMPILE_ERROR,
    /** A native library could not be found or loaded. */
    LIBRARY_LOAD,
    /** No backend could serve the request. */
    BACKEND_UNAVAILABLE,
    /** The device or build lacks a capability (dtype, architecture, instruction). */
    NOT_SUPPORTED,
    /** A file is missing, truncated or malformed. */
    MALFORMED_INPUT,
    /** An invariant of Lacuna itself was broken; a bug. */
    INTERNAL
}
