package org.lacuna.api.layers;

import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.sparseconv.CoordinateSet;

/**
 * What the point-cloud layers share: the open check of their input and the batch count read off the coordinate set
 * the host already holds (its keys), which sizes the outputs of pooling and the bird's-eye view without a download.
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

    /** The number of batch samples of the open input: one more than the largest batch index. */
    static int batchCount(String call, SparseTensor x) {
        requireOpen(call, x);
        CoordinateSet set = x.coordinateSet();
        int max = 0;
        for (int row = 0; row < set.size(); row++) {
            max = Math.max(max, CoordinateKey.batch(set.key(row)));
        }
        return max + 1;
    }

    /** Fails unless the input is open and {@code batches} samples hold its every batch index; returns {@code batches}. */
    static int requireBatches(String call, SparseTensor x, int batches) {
        int needed = batchCount(call, x);
        if (batches < needed) {
            throw InvalidInputException.argument(call, "batch index " + (needed - 1) + " does not fit " + batches
                    + " samples");
        }
        return batches;
    }
}
