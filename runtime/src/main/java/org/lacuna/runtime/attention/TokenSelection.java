package org.lacuna.runtime.attention;

import java.util.Objects;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;

/**
 * The device-side result of a token selection ({@code AttentionOps.selectTokens}) over a batch of {@code rows} tokens
 * in {@code batch} sequences, and the workspace that computes it, in one buffer of the backend. Sized before the
 * selection runs, from host-side facts only ({@link SelectionRule#capacity}), so selecting, gathering and attending
 * never wait for the device:
 * <ul>
 *   <li>{@link #keptIndex()} I32 [capacity]: the kept tokens' rows, sequence after sequence, each in its original
 *       order; -1 after the last (padding up to the capacity);</li>
 *   <li>{@link #slotOf()} I32 [rows]: each token's row among the kept ones, or -1 if it was dropped;</li>
 *   <li>{@link #keptCounts()} I32 [batch] and {@link #keptOffsets()} I32 [batch + 1]: the kept batch's lengths and
 *       cu_seqlens, so {@link #keptBatch()} describes the gathered tensors for the attention kernel.</li>
 * </ul>
 * Reusable: each selection overwrites the last. Close it to free the buffer; idempotent.
 */
public final class TokenSelection implements AutoCloseable {
    private static final long ALIGNMENT = 256;

    private final DeviceBuffer buffer;
    private final long rows;
    private final int batch;
    private final long capacity;
    private final int maxKeptLength;
    private final DeviceArray keptIndex;
    private final DeviceArray slotOf;
    private final DeviceArray keptCounts;
    private final DeviceArray keptOffsets;
    private final Workspace workspace;

    /**
     * Scratch of the selection kernels, for backends: per-row sort keys, item flags and staged rows, per-sequence
     * NaN reports, the ticket counter of the last-CTA scan (kept at 0 between selections) and the status words
     * {@code [first NaN row or -1, 1 if the capacity was exceeded]}.
     */
    public record Workspace(DeviceArray keys, DeviceArray flags, DeviceArray staged, DeviceArray sequenceNan,
                            DeviceArray counter, DeviceArray status) {
    }

    private TokenSelection(DeviceBuffer buffer, long rows, int batch, long capacity, int maxKeptLength) {
        this.buffer = buffer;
        this.rows = rows;
        this.batch = batch;
        this.capacity = capacity;
        this.maxKeptLength = maxKeptLength;
        long[] cursor = {0};
        keptIndex = region(cursor, capacity);
        slotOf = region(cursor, rows);
        keptCounts = region(cursor, batch);
        keptOffsets = region(cursor, batch + 1L);
        workspace = new Workspace(region(cursor, rows), region(cursor, rows), region(cursor, rows), region(cursor, batch),
                region(cursor, 1), region(cursor, 2));
    }

    /**
     * A selection for {@code sequences} under {@code rule}, with ({@code pinMask}) or without a caller's pin mask.
     * Its capacity is {@code rule.capacity(...)}: any other rule whose capacity is no larger may use it too.
     */
    public static TokenSelection allocate(Backend backend, SequenceBatch sequences, SelectionRule rule, boolean pinMask) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(sequences, "sequences");
        Objects.requireNonNull(rule, "rule");
        long rows = sequences.rows();
        int batch = sequences.batch();
        long capacity = rule.capacity(rows, batch, sequences.maxLength(), pinMask);
        int maxKept = (int) Math.min(capacity, rule.maxKept(sequences.maxLength(), pinMask));
        long bytes = 0;
        for (long count : new long[] {capacity, rows, batch, batch + 1L, rows, rows, rows, batch, 1, 2}) {
            bytes += align(count * 4);
        }
        DeviceBuffer buffer = backend.allocate(bytes);
        try {
            TokenSelection selection = new TokenSelection(buffer, rows, batch, capacity, maxKept);
            // The ticket counter starts (and every selection leaves it) at 0; no status before the first selection.
            DeviceArray counter = selection.workspace.counter();
            backend.fill(buffer, counter.byteOffset(), counter.byteSize(), (byte) 0);
            DeviceArray status = selection.workspace.status();
            backend.fill(buffer, status.byteOffset(), 4, (byte) 0xFF);
            backend.fill(buffer, status.byteOffset() + 4, 4, (byte) 0);
            return selection;
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
    }

    private static long align(long bytes) {
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private DeviceArray region(long[] cursor, long count) {
        DeviceArray array = new DeviceArray(buffer, cursor[0], DType.I32, Shape.of(count));
        cursor[0] += align(count * 4);
        return array;
    }

    public DeviceArray keptIndex() {
        return keptIndex;
    }

    public DeviceArray slotOf() {
        return slotOf;
    }

    public DeviceArray keptCounts() {
        return keptCounts;
    }

    public DeviceArray keptOffsets() {
        return keptOffsets;
    }

    public Workspace workspace() {
        return workspace;
    }

    /** The kept tokens as a batch: {@code capacity} rows, the kept offsets, lengths bounded as the rule allows. */
    public SequenceBatch keptBatch() {
        checkOpen("TokenSelection.keptBatch");
        return new SequenceBatch(keptOffsets, capacity, maxKeptLength);
    }

    /** Tokens in the batch selected from. */
    public long rows() {
        return rows;
    }

    public int batch() {
        return batch;
    }

    /** Rows of the kept tensors: an upper bound on the tokens kept. */
    public long capacity() {
        return capacity;
    }

    /** An upper bound on every sequence's kept length. */
    public int maxKeptLength() {
        return maxKeptLength;
    }

    /**
     * Waits for the last selection and throws {@link InvalidInputException} if a score was NaN (the kernels rank NaN
     * lowest and carry on, since they cannot stop the host) or a {@link LacunaException} if the capacity did not hold
     * the kept tokens (offsets that contradict the batch's {@code maxLength}). The one call of the selection that
     * synchronises: for tests, debugging and callers that must reject bad scores. The CPU backend already threw.
     */
    public void verify(Backend backend) {
        checkOpen("TokenSelection.verify");
        int[] status = HostData.downloadInts(backend, workspace.status());
        if (status[0] >= 0) {
            throw InvalidInputException.argument("selectTokens", "the score of row " + status[0] + " is NaN");
        }
        if (status[1] != 0) {
            throw new LacunaException(ErrorCode.INVALID_ARGUMENT, "selectTokens", "more tokens were kept than the "
                    + "capacity of " + capacity + ": the offsets contradict the batch's maxLength");
        }
    }

    public boolean isClosed() {
        return buffer.isClosed();
    }

    void checkOpen(String call) {
        if (buffer.isClosed()) {
            throw new ResourceClosedException(call, "token selection");
        }
    }

    @Override
    public void close() {
        buffer.close();
    }
}
