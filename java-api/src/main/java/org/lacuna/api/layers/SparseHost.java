package org.lacuna.api.layers;

import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;

/**
 * What the point-cloud layers share: the open check of their input and the batch count of host coordinates (for the
 * layers that still compute on the host: pooling, BEV and devoxelisation).
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

    /** The number of batch samples: one more than the largest batch index. */
    static int batchCount(int[] coordinates) {
        int max = 0;
        for (int row = 0; row < coordinates.length; row += 4) {
            max = Math.max(max, coordinates[row]);
        }
        return max + 1;
    }
}
