package org.lacuna.runtime.backend;

/**
 * A snapshot of a backend's host↔device traffic since it opened: copies between host memory (Java arrays, host
 * segments) and backend memory in each direction, with their bytes, and waits for the backend's stream. On the CPU
 * backends an upload or download is the copy between host data and the backend's own memory; their waits are
 * no-ops but still counted, so the same assertions hold on every backend.
 *
 * @param uploads         host → device copies
 * @param uploadBytes     bytes they moved
 * @param downloads       device → host copies
 * @param downloadBytes   bytes they moved
 * @param synchronizations waits for the stream (explicit ones and those a copy makes)
 */
public record TransferStats(long uploads, long uploadBytes, long downloads, long downloadBytes,
                            long synchronizations) {
    /** Host↔device copies in both directions. */
    public long copies() {
        return uploads + downloads;
    }

    /** The traffic between {@code earlier} and this snapshot, both of one backend. */
    public TransferStats since(TransferStats earlier) {
        return new TransferStats(uploads - earlier.uploads, uploadBytes - earlier.uploadBytes,
                downloads - earlier.downloads, downloadBytes - earlier.downloadBytes,
                synchronizations - earlier.synchronizations);
    }
}
