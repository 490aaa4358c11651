package org.lacuna.runtime.backend;

/**
 * A snapshot of a backend's host↔device traffic since it opened: copies between host memory (Java arrays, host
 * segments) and backend memory in each direction, with their bytes, waits for the backend's stream, and, apart from
 * the copies, the size reads. On the CPU backends an upload or download is the copy between host data and the
 * backend's own memory; their waits are no-ops but still counted, so the same assertions hold on every backend.
 *
 * <p>A size read is a read of a few bytes the host needs before it can go on, computed on the device: a count that
 * sizes what follows (the number of distinct voxels a device voxeliser found) or a status (whether an input was
 * invalid). It is a device → host copy and waits for the stream like one, but it is counted here, not among the
 * {@link #downloads}, so that "no bulk copy between the input upload and the output download" and "exactly this
 * many size reads" can be asserted apart. The rule the backends keep: the host knows every coordinate set's keys
 * (its description, from which the sizes of maps and outputs are derived); only a set born on the device (a GPU
 * voxeliser's) is sized by size reads, when it is made, and no layer makes one.
 *
 * @param uploads          host → device copies
 * @param uploadBytes      bytes they moved
 * @param downloads        device → host copies of data (size reads not included)
 * @param downloadBytes    bytes they moved
 * @param synchronizations waits for the stream (explicit ones and those a copy or size read makes)
 * @param sizeReads        device → host reads of a size or status (a few bytes each)
 * @param sizeReadBytes    bytes they moved
 */
public record TransferStats(long uploads, long uploadBytes, long downloads, long downloadBytes,
                            long synchronizations, long sizeReads, long sizeReadBytes) {
    /** Traffic without size reads. */
    public TransferStats(long uploads, long uploadBytes, long downloads, long downloadBytes, long synchronizations) {
        this(uploads, uploadBytes, downloads, downloadBytes, synchronizations, 0, 0);
    }

    /** Host↔device copies of data in both directions (size reads are counted apart). */
    public long copies() {
        return uploads + downloads;
    }

    /** The traffic between {@code earlier} and this snapshot, both of one backend. */
    public TransferStats since(TransferStats earlier) {
        return new TransferStats(uploads - earlier.uploads, uploadBytes - earlier.uploadBytes,
                downloads - earlier.downloads, downloadBytes - earlier.downloadBytes,
                synchronizations - earlier.synchronizations, sizeReads - earlier.sizeReads,
                sizeReadBytes - earlier.sizeReadBytes);
    }
}
