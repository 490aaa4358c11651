package org.lacuna.runtime.internal.nativelib;

/**
 * Loads and binds one candidate file. Throwing (an exception or a {@link LinkageError} such as
 * {@link UnsatisfiedLinkError}) rejects the candidate: its message is kept and the search goes on.
 */
@FunctionalInterface
public interface CandidateLoader<T> {
    T load(LibraryCandidate candidate) throws Exception;
}
