package org.lacuna.runtime.internal.cuda;

import java.util.Map;
import jcuda.driver.CUdeviceptr;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.AttentionContracts;
import org.lacuna.runtime.ops.AttentionOps;

/**
 * The attention ops on the GPU. Nothing here waits for the device: grids are sized from host-side bounds (a batch's
 * maxLength, a selection's capacity) and every launch goes on the backend's stream.
 */
final class CudaAttentionOps implements AttentionOps {
    private static final int BLOCK = 256;
    private static final int BLOCKS_PER_SM = 8;
    /** The kernels index within a sequence and a head in 32 bits. */
    private static final long MAX_SEQUENCE_ELEMENTS = Integer.MAX_VALUE;

    private final KernelStream kernels;
    /** The most CTAs a gather or scatter launches: it strides over the rest. */
    private final long rowBlocksLimit;

    CudaAttentionOps(KernelStream kernels, int multiprocessors) {
        this.kernels = kernels;
        this.rowBlocksLimit = (long) multiprocessors * BLOCKS_PER_SM;
    }

    @Override
    public void selectTokens(DeviceArray scores, SequenceBatch batch, DeviceArray pinMask, SelectionRule rule,
                             TokenSelection out) {
        AttentionContracts.selectTokens(CudaBackendProvider.NAME, scores, batch, pinMask, rule, out);
        if (batch.batch() > 0) {
            kernels.launch(AttentionLaunches.select(LaunchOperands.DEVICE_ADDRESSES, scores, batch, pinMask, rule,
                    out));
        }
        kernels.launch(AttentionLaunches.compact(LaunchOperands.DEVICE_ADDRESSES, batch, out));
    }

    @Override
    public void gatherRows(DeviceArray x, TokenSelection selection, DeviceArray out) {
        String call = "gatherRows";
        AttentionContracts.gatherRows(CudaBackendProvider.NAME, x, selection, out);
        long rows = out.shape().dim(0);
        long rowBytes = rows == 0 ? 0 : out.byteSize() / rows;
        if (rows == 0 || rowBytes == 0) {
            return;
        }
        int unit = unit(rowBytes, address(x, call), address(out, call));
        long units = rowBytes / unit;
        int lanes = lanesLog2(units);
        KernelArguments parameters = new KernelArguments().pointer(pointer(x, call)).i64(x.shape().dim(0))
                .pointer(pointer(selection.keptIndex(), call)).pointer(pointer(out, call)).i64(rows)
                .i32(Math.toIntExact(units)).i32(lanes);
        launchRows("gather_rows", unit, rows, lanes, parameters);
    }

    @Override
    public void scatterRows(DeviceArray kept, TokenSelection selection, DeviceArray passThrough, DeviceArray out) {
        String call = "scatterRows";
        AttentionContracts.scatterRows(CudaBackendProvider.NAME, kept, selection, passThrough, out);
        long rows = out.shape().dim(0);
        long rowBytes = rows == 0 ? 0 : out.byteSize() / rows;
        if (rows == 0 || rowBytes == 0) {
            return;
        }
        int unit = passThrough == null ? unit(rowBytes, address(kept, call), address(out, call))
                : unit(rowBytes, address(kept, call), address(out, call), address(passThrough, call));
        long units = rowBytes / unit;
        int lanes = lanesLog2(units);
        KernelArguments parameters = new KernelArguments().pointer(pointer(kept, call)).i64(kept.shape().dim(0))
                .pointer(pointer(selection.slotOf(), call))
                .pointer(passThrough == null ? null : pointer(passThrough, call)).pointer(pointer(out, call)).i64(rows)
                .i32(Math.toIntExact(units)).i32(lanes);
        launchRows("scatter_rows", unit, rows, lanes, parameters);
    }

    @Override
    public void attention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options, DeviceArray out,
                          DeviceArray logSumExp) {
        String call = "attention";
        AttentionContracts.attention(CudaBackendProvider.NAME, inputs, batch, options, out, logSumExp);
        AttentionLaunches.Operands qkv = AttentionLaunches.Operands.of(inputs, options);
        requireSupported(call, qkv, batch, options, out);
        kernels.launch(AttentionLaunches.flash(LaunchOperands.DEVICE_ADDRESSES, qkv, batch, options, out, logSumExp));
    }

    @Override
    public void keyAttention(AttentionInputs inputs, SequenceBatch batch, AttentionOptions options,
                             DeviceArray logSumExp, KeyScore score, DeviceArray scores) {
        String call = "keyAttention";
        AttentionContracts.keyAttention(CudaBackendProvider.NAME, inputs, batch, options, logSumExp, score, scores);
        AttentionLaunches.Operands qkv = AttentionLaunches.Operands.of(inputs, options);
        requireSupported(call, qkv, batch, options, null);
        kernels.launch(AttentionLaunches.keys(LaunchOperands.DEVICE_ADDRESSES, qkv, batch, options, logSumExp, score,
                scores));
    }

    /** The kernels' assumptions, which the contracts (shared with the CPU backend) leave to each backend. */
    private static void requireSupported(String call, AttentionLaunches.Operands qkv, SequenceBatch batch,
                                         AttentionOptions options, DeviceArray out) {
        boolean aligned = address(qkv.q(), call) % 16 == 0 && address(qkv.k(), call) % 16 == 0
                && address(qkv.v(), call) % 16 == 0 && (out == null || address(out, call) % 16 == 0);
        if (!aligned) {
            throw new NotSupportedException(call, "Q, K, V and the output must start on 16-byte boundaries (the "
                    + "kernel copies 16-byte chunks); allocate them fresh or slice at multiples of 8 elements");
        }
        long perSequence = ((long) batch.maxLength() + AttentionTiling.FLASH_ROWS) * qkv.stride();
        if (perSequence > MAX_SEQUENCE_ELEMENTS) {
            throw new NotSupportedException(call, "sequences of " + batch.maxLength() + " tokens with rows of "
                    + qkv.stride() + " elements exceed the kernels' 32-bit offsets");
        }
        if (batch.batch() + 1L > 65_535) {
            throw new NotSupportedException(call, batch.batch() + " sequences exceed the grid's 65534");
        }
        if (AttentionTiling.flashTiles(batch.maxLength()) * options.heads() > Integer.MAX_VALUE) {
            throw new NotSupportedException(call, "too many query tiles for one grid");
        }
    }

    /** The widest copy unit (16, 8, 4 or 2 bytes) that divides the row and aligns every base address. */
    static int unit(long rowBytes, long... addresses) {
        for (int unit : new int[] {16, 8, 4, 2}) {
            boolean fits = rowBytes % unit == 0;
            for (long address : addresses) {
                fits &= address % unit == 0;
            }
            if (fits) {
                return unit;
            }
        }
        throw new NotSupportedException("gather/scatter", "rows of " + rowBytes + " bytes at odd addresses");
    }

    /** log2 of the threads sharing a row: the row's units rounded up to a power of two, at most a CTA. */
    static int lanesLog2(long units) {
        int log2 = 0;
        while ((1L << log2) < units && (1 << log2) < AttentionTiling.ROW_THREADS) {
            log2++;
        }
        return log2;
    }

    /** A gather or scatter over {@code rows} rows, 2^lanesLog2 threads a row, copying {@code unit}-byte units. */
    private void launchRows(String entry, int unit, long rows, int lanesLog2, KernelArguments arguments) {
        long rowsPerBlock = AttentionTiling.ROW_THREADS >> lanesLog2;
        long grid = LaunchGrid.gridStrideAtLeastOne(rows, rowsPerBlock, rowBlocksLimit);
        kernels.launch(new KernelLaunch("gather_scatter.cu", entry, Map.of("UNIT", Integer.toString(unit)), grid, 1,
                AttentionTiling.ROW_THREADS, 0, arguments));
    }

    private static long address(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).address(call) + array.byteOffset();
    }

    private static CUdeviceptr pointer(DeviceArray array, String call) {
        return ((CudaBuffer) array.buffer()).pointer(call, array.byteOffset());
    }
}
