package org.lacuna.api.layers;

import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;

/**
 * The host round trip the point-cloud layers without a device op use today: download features, compute on the JVM,
 * upload a result that keeps the input's coordinate set (and so its cached kernel maps). A device kernel replaces
 * each use of this class.
 */
final class SparseHost {
    private SparseHost() {
    }

    static void requireOpen(String call, SparseTensor x) {
        if (x == null) {
            throw InvalidInputException.argument(call, "the input sparse tensor is null");
        }
        if (x.isClosed()) {
            throw new ResourceClosedException(call, "the input sparse tensor");
        }
    }

    /** A sparse tensor on {@code like}'s coordinate set with host {@code values} [N, channels] in its feature type. */
    static SparseTensor withFeatures(SparseTensor like, float[] values, int channels) {
        Tensor features = like.session().fromFloats(values, like.featureType(), like.size(), channels);
        try {
            return SparseTensor.onCoordinateSet(like.coordinateSet(), features);
        } catch (RuntimeException e) {
            features.close();
            throw e;
        }
    }

    /** The number of batch samples: one more than the largest batch index. */
    static int batchCount(int[] coordinates) {
        int max = 0;
        for (int row = 0; row < coordinates.length; row += 4) {
            max = Math.max(max, coordinates[row]);
        }
        return max + 1;
    }
}
