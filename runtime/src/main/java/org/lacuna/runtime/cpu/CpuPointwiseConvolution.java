package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.cpu.kernels.Epilogue;
import org.lacuna.runtime.cpu.kernels.HalfConversions;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.internal.cpublas.OpenBlas;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapTables;

/**
 * A 1×1×1 convolution on its own coordinates (MinkUNet's residual projections): every output row is its own input
 * row, so the convolution is the plain dense GEMM {@code y = act(x · w + bias)} over the rows, with no gather and
 * no scatter. OpenBLAS runs it on blocks of a fixed number of rows, x read in place when it is fp32, the bias and
 * activation applied to each block's fp32 tile on its way to y. The blocks do not depend on the thread count and
 * each is one single-threaded OpenBLAS call, so the bits are the same with 1 or N threads.
 */
final class CpuPointwiseConvolution {
    /**
     * Rows per OpenBLAS call: a tile of 512 rows × 256 outputs is 512 KiB, in L2 for its epilogue; 192 rows measured
     * 5-7% slower on MinkUNet's projections (OpenBLAS packs its operands on every call).
     */
    static final int ROW_BLOCK = 512;
    private static final String CALL = "sparseConvolution";

    private final CpuContext context;
    private final OpenBlas blas;

    CpuPointwiseConvolution(CpuContext context, OpenBlas blas) {
        this.context = context;
        this.blas = blas;
    }

    /** Whether the map pairs every output row with the input row of the same index, and nothing else. */
    static boolean isIdentity(KernelMap map) {
        if (map.volume() != 1 || map.inputCount() != map.outputCount() || map.totalPairs() != map.outputCount()) {
            return false;
        }
        MapTables tables = map.sharedTables();
        int[] inputs = tables.pairInputs();
        int[] outputs = tables.pairOutputs();
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] != i || outputs[i] != i) {
                return false;
            }
        }
        return true;
    }

    /**
     * y [rows, out] = act(x [rows, in] · w [in, out] + bias), w fp32 (widened by the caller), x and y as given.
     *
     * @param x      F32 or F16 [rows, in] in its buffer's memory
     * @param result y's memory, written
     */
    void run(MemorySegment x, DeviceArray xArray, int in, float[] w, int out, float[] bias, Activation activation,
             MemorySegment result, DeviceArray y) {
        int rows = Math.toIntExact(xArray.shape().dim(0));
        boolean directInput = xArray.dtype() == DType.F32;
        MemorySegment weights = MemorySegment.ofArray(w);
        context.threads().forEach(CpuThreads.chunks(rows, ROW_BLOCK), block -> {
            int first = block * ROW_BLOCK;
            int count = Math.min(ROW_BLOCK, rows - first);
            Scratch scratch = SCRATCH.get();
            float[] tile = scratch.tile(count * out);
            MemorySegment a;
            long aOffset;
            if (directInput) {
                a = x.asSlice(xArray.byteOffset());
                aOffset = (long) first * in;
            } else {
                float[] widened = scratch.input(count * in);
                HalfConversions.widen(x, xArray.byteOffset() + (long) first * in * xArray.dtype().byteSize(),
                        xArray.dtype(), widened, 0, count * in);
                a = MemorySegment.ofArray(widened);
                aOffset = 0;
            }
            blas.sgemm(count, out, in, a, aOffset, Math.max(1, in), weights, 0, Math.max(1, out), false,
                    MemorySegment.ofArray(tile), 0, Math.max(1, out), false);
            Epilogue.biasActivation(context.vectorApi(), tile, 0, out, count, out, bias, 0, activation);
            HalfConversions.narrow(tile, 0, count * out, result,
                    y.byteOffset() + (long) first * out * y.dtype().byteSize(), y.dtype());
        });
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** One thread's fp32 output tile and, for an F16 x, its widened rows. */
    private static final class Scratch {
        private float[] tile = new float[0];
        private float[] input = new float[0];

        float[] tile(int size) {
            if (tile.length < size) {
                tile = new float[size];
            }
            return tile;
        }

        float[] input(int size) {
            if (input.length < size) {
                input = new float[size];
            }
            return input;
        }
    }
}
