package org.lacuna.runtime.cpu;

import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.AttentionContracts;
import org.lacuna.runtime.ops.AttentionOps;

/**
 * The token selection and row movement of both CPU backends (the serving one and the reference): exact in any
 * precision, so both run the same code, the serving backend on its threads and the reference on the calling thread
 * ({@link CpuThreads#CALLER}). Work is split by the shapes alone, so the split never changes a result. Attention
 * itself is each backend's own (fp32 kernels, or the double-precision reference).
 */
abstract class HostAttentionOps implements AttentionOps {
    /** Rows a chunk of gather and scatter. */
    private static final int ROWS_PER_CHUNK = 64;

    /** The backend whose tensors these ops take, named in the contracts' errors (the subclasses' checks too). */
    final String backendName;
    private final CpuThreads threads;

    HostAttentionOps(String backendName, CpuThreads threads) {
        this.backendName = backendName;
        this.threads = threads;
    }

    @Override
    public final void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                                   TokenSelection out) {
        AttentionContracts.selectTokens(backendName, scores, batch, pinMask, rule, out);
        CpuTokenSelection.select(scores, batch, pinMask, rule, out, threads);
    }

    @Override
    public final void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
        AttentionContracts.gatherRows(backendName, x, selection, out);
        copyInChunks(RowCopies.gather(x, selection, out));
    }

    @Override
    public final void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough,
                                  DeviceArray out) {
        AttentionContracts.scatterRows(backendName, kept, selection, passThrough, out);
        copyInChunks(RowCopies.scatter(kept, selection, passThrough, out));
    }

    private void copyInChunks(RowCopies copies) {
        int rows = copies.rows();
        threads.forEach(CpuThreads.chunks(rows, ROWS_PER_CHUNK),
                chunk -> copies.copy(chunk * ROWS_PER_CHUNK, Math.min(rows, (chunk + 1) * ROWS_PER_CHUNK)));
    }
}
