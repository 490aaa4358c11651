package org.lacuna.api.layers;

import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * Global max or mean pooling of a sparse tensor per batch sample: a dense F32 [batch, C] tensor. A sample with no
 * coordinates pools to zeros (its mean is undefined; zero is what a scatter-mean over nothing gives in TorchSparse).
 *
 * <p>Computes on the host from downloaded coordinates and features until a device segment reduction exists.
 */
public final class GlobalPooling {
    public enum Mode {
        MAX, MEAN
    }

    private final Mode mode;

    public GlobalPooling(Mode mode) {
        if (mode == null) {
            throw InvalidInputException.argument("GlobalPooling", "mode is required");
        }
        this.mode = mode;
    }

    /** Pools over as many samples as the largest batch index says. */
    public Tensor forward(SparseTensor x) {
        SparseHost.requireOpen("GlobalPooling.forward", x);
        int[] coordinates = x.coordinateSet().coordinates();
        return pool(x, coordinates, SparseHost.batchCount(coordinates));
    }

    /** Pools into exactly {@code batches} rows, so that trailing empty samples still get their (zero) row. */
    public Tensor forward(SparseTensor x, int batches) {
        String call = "GlobalPooling.forward";
        SparseHost.requireOpen(call, x);
        int[] coordinates = x.coordinateSet().coordinates();
        int needed = SparseHost.batchCount(coordinates);
        if (batches < needed) {
            throw InvalidInputException.argument(call, "batch index " + (needed - 1) + " does not fit " + batches
                    + " samples");
        }
        return pool(x, coordinates, batches);
    }

    private Tensor pool(SparseTensor x, int[] coordinates, int batches) {
        int c = (int) x.channels();
        float[] features = x.features().toFloatArray();
        float[] out = new float[batches * c];
        int[] counts = new int[batches];
        if (mode == Mode.MAX) {
            java.util.Arrays.fill(out, Float.NEGATIVE_INFINITY);
        }
        for (int row = 0; row < coordinates.length / 4; row++) {
            int b = coordinates[4 * row];
            counts[b]++;
            for (int ch = 0; ch < c; ch++) {
                float v = features[row * c + ch];
                int o = b * c + ch;
                out[o] = mode == Mode.MAX ? Math.max(out[o], v) : out[o] + v;
            }
        }
        for (int b = 0; b < batches; b++) {
            for (int ch = 0; ch < c; ch++) {
                int o = b * c + ch;
                out[o] = counts[b] == 0 ? 0f : mode == Mode.MAX ? out[o] : out[o] / counts[b];
            }
        }
        return x.session().fromFloats(out, DType.F32, batches, c);
    }

    public Mode mode() {
        return mode;
    }

    @Override
    public String toString() {
        return "GlobalPooling[" + mode + "]";
    }
}
