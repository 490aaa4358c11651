package org.lacuna.runtime.cpu;

import java.lang.foreign.MemorySegment;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ElementwiseContracts;
import org.lacuna.runtime.ops.ElementwiseOps;
import org.lacuna.runtime.ops.RowReduction;

/**
 * The reference of every elementwise and normalisation op: double-precision arithmetic, one rounding to the output
 * type at the end, rows spread over the common fork-join pool.
 */
final class ReferenceElementwiseOps implements ElementwiseOps {
    /** The backend whose tensors this serves: the reference's own, or the serving backend it stands in for. */
    private final String backend;

    ReferenceElementwiseOps(String backend) {
        this.backend = backend;
    }

    @Override
    public void biasActivation(DeviceArray x, DeviceArray bias, Activation activation, DeviceArray y) {
        ElementwiseContracts.biasActivation(backend, x, bias, activation, y);
        MemorySegment in = segment(x, "biasActivation");
        MemorySegment out = segment(y, "biasActivation");
        MemorySegment b = bias == null ? null : segment(bias, "biasActivation");
        long cols = x.shape().columns();
        ReferenceParallel.forEach(x.shape().rows(), x.elementCount(), row -> {
            for (long c = 0; c < cols; c++) {
                long i = row * cols + c;
                double v = CpuElements.read(in, x.byteOffset(), x.dtype(), i);
                if (b != null) {
                    v += CpuElements.read(b, bias.byteOffset(), bias.dtype(), c);
                }
                CpuElements.write(out, y.byteOffset(), y.dtype(), i, (float) activation.apply(v));
            }
        });
    }

    @Override
    public void cast(DeviceArray x, DeviceArray y) {
        ElementwiseContracts.cast(backend, x, y);
        MemorySegment in = segment(x, "cast");
        MemorySegment out = segment(y, "cast");
        long cols = Math.max(1, x.shape().columns());
        long count = x.elementCount();
        ReferenceParallel.forEach((count + cols - 1) / cols, count, row -> {
            long end = Math.min(count, (row + 1) * cols);
            for (long i = row * cols; i < end; i++) {
                CpuElements.write(out, y.byteOffset(), y.dtype(), i, CpuElements.read(in, x.byteOffset(), x.dtype(), i));
            }
        });
    }

    @Override
    public void rowReduce(DeviceArray x, RowReduction reduction, DeviceArray out) {
        ElementwiseContracts.rowReduce(backend, x, reduction, out);
        MemorySegment in = segment(x, "rowReduce");
        MemorySegment result = segment(out, "rowReduce");
        long cols = x.shape().columns();
        ReferenceParallel.forEach(x.shape().rows(), x.elementCount(), row -> {
            double acc = reduction == RowReduction.MAX ? Double.NEGATIVE_INFINITY : 0.0;
            for (long c = 0; c < cols; c++) {
                double v = CpuElements.read(in, x.byteOffset(), x.dtype(), row * cols + c);
                acc = switch (reduction) {
                    case SUM -> acc + v;
                    case MAX -> Math.max(acc, v);
                    case L2 -> acc + v * v;
                };
            }
            CpuElements.write(result, out.byteOffset(), out.dtype(), row,
                    (float) (reduction == RowReduction.L2 ? Math.sqrt(acc) : acc));
        });
    }

    @Override
    public void add(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.add(backend, a, b, y);
        String call = "add";
        MemorySegment left = segment(a, call);
        MemorySegment right = segment(b, call);
        MemorySegment out = segment(y, call);
        ReferenceParallel.forEach(a.elementCount(), a.elementCount(), i -> {
            double sum = (double) CpuElements.read(left, a.byteOffset(), a.dtype(), i)
                    + CpuElements.read(right, b.byteOffset(), b.dtype(), i);
            CpuElements.write(out, y.byteOffset(), y.dtype(), i, (float) sum);
        });
    }

    @Override
    public void layerNorm(DeviceArray x, DeviceArray gamma, DeviceArray beta, double epsilon, DeviceArray y) {
        ElementwiseContracts.layerNorm(backend, x, gamma, beta, epsilon, y);
        normaliseRows("layerNorm", x, null, gamma, beta, epsilon, y);
    }

    @Override
    public void residualLayerNorm(DeviceArray x, DeviceArray residual, DeviceArray gamma, DeviceArray beta,
                                  double epsilon, DeviceArray y) {
        ElementwiseContracts.residualLayerNorm(backend, x, residual, gamma, beta, epsilon, y);
        normaliseRows("residualLayerNorm", x, residual, gamma, beta, epsilon, y);
    }

    /** Layer norm of each row of x, or of x + residual (summed in double) where residual is not null. */
    private static void normaliseRows(String call, DeviceArray x, DeviceArray residual, DeviceArray gamma,
                                      DeviceArray beta, double epsilon, DeviceArray y) {
        MemorySegment in = segment(x, call);
        MemorySegment added = residual == null ? null : segment(residual, call);
        MemorySegment out = segment(y, call);
        float[] g = CpuTokenSelection.readFloats(gamma, call);
        float[] b = beta == null ? null : CpuTokenSelection.readFloats(beta, call);
        long cols = x.shape().columns();
        ReferenceParallel.forEach(x.shape().rows(), x.elementCount(), row -> {
            double[] v = new double[(int) cols];
            double mean = 0;
            for (int c = 0; c < cols; c++) {
                v[c] = CpuElements.read(in, x.byteOffset(), x.dtype(), row * cols + c);
                if (added != null) {
                    v[c] += CpuElements.read(added, residual.byteOffset(), residual.dtype(), row * cols + c);
                }
                mean += v[c];
            }
            mean /= cols;
            double variance = 0;
            for (int c = 0; c < cols; c++) {
                variance += (v[c] - mean) * (v[c] - mean);
            }
            double scale = 1.0 / Math.sqrt(variance / cols + epsilon);
            for (int c = 0; c < cols; c++) {
                double normalised = (v[c] - mean) * scale * g[c] + (b == null ? 0.0 : b[c]);
                CpuElements.write(out, y.byteOffset(), y.dtype(), row * cols + c, (float) normalised);
            }
        });
    }

    @Override
    public void batchNorm(DeviceArray x, DeviceArray scale, DeviceArray shift, DeviceArray y) {
        ElementwiseContracts.batchNorm(backend, x, scale, shift, y);
        String call = "batchNorm";
        MemorySegment in = segment(x, call);
        MemorySegment out = segment(y, call);
        float[] s = CpuTokenSelection.readFloats(scale, call);
        float[] t = CpuTokenSelection.readFloats(shift, call);
        long cols = x.shape().columns();
        ReferenceParallel.forEach(x.shape().rows(), x.elementCount(), row -> {
            for (int c = 0; c < cols; c++) {
                long i = row * cols + c;
                double v = (double) CpuElements.read(in, x.byteOffset(), x.dtype(), i) * s[c] + t[c];
                CpuElements.write(out, y.byteOffset(), y.dtype(), i, (float) v);
            }
        });
    }

    @Override
    public void concatColumns(DeviceArray a, DeviceArray b, DeviceArray y) {
        ElementwiseContracts.concatColumns(backend, a, b, y);
        new ColumnConcat(a, b, y).copy(0, y.shape().dim(0));
    }

    private static MemorySegment segment(DeviceArray array, String call) {
        return ((CpuBuffer) array.buffer()).segment(call);
    }
}
