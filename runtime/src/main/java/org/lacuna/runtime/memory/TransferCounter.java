package org.lacuna.runtime.memory;

import java.util.concurrent.atomic.LongAdder;
import org.lacuna.runtime.backend.TransferStats;

/** Counts a backend's host↔device copies, size reads and stream waits; safe to update from any thread. */
public final class TransferCounter {
    private final LongAdder uploads = new LongAdder();
    private final LongAdder uploadBytes = new LongAdder();
    private final LongAdder downloads = new LongAdder();
    private final LongAdder downloadBytes = new LongAdder();
    private final LongAdder synchronizations = new LongAdder();
    private final LongAdder sizeReads = new LongAdder();
    private final LongAdder sizeReadBytes = new LongAdder();

    public void upload(long bytes) {
        uploads.increment();
        uploadBytes.add(bytes);
    }

    public void download(long bytes) {
        downloads.increment();
        downloadBytes.add(bytes);
    }

    /** A read of a size or status the host needs (see {@link TransferStats}), not a download of data. */
    public void sizeRead(long bytes) {
        sizeReads.increment();
        sizeReadBytes.add(bytes);
    }

    public void synchronization() {
        synchronizations.increment();
    }

    public TransferStats snapshot() {
        return new TransferStats(uploads.sum(), uploadBytes.sum(), downloads.sum(), downloadBytes.sum(),
                synchronizations.sum(), sizeReads.sum(), sizeReadBytes.sum());
    }
}
