package org.lacuna.api.layers;

import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.ops.BatchPooling;

/**
 * Global max or mean pooling of a sparse tensor per batch sample: a dense F32 [batch, C] tensor. A sample with no
 * coordinates pools to zeros (its mean is undefined; zero is what a scatter-mean over nothing gives in TorchSparse).
 * Runs on the device through {@link org.lacuna.runtime.ops.VoxelizationOps#batchPool}; the batch count comes from
 * the coordinate set the host holds, so nothing is downloaded.
 */
public final class GlobalPooling {
    private static final String FORWARD = "GlobalPooling.forward";

    private final BatchPooling pooling;

    public GlobalPooling(BatchPooling pooling) {
        if (pooling == null) {
            throw InvalidInputException.argument("GlobalPooling", "the pooling is required");
        }
        this.pooling = pooling;
    }

    /** Pools over as many samples as the largest batch index says. */
    public Tensor forward(SparseTensor x) {
        return pool(FORWARD, x, SparseHost.batchCount(FORWARD, x));
    }

    /** Pools into exactly {@code batches} rows, so that trailing empty samples still get their (zero) row. */
    public Tensor forward(SparseTensor x, int batches) {
        return pool(FORWARD, x, SparseHost.requireBatches(FORWARD, x, batches));
    }

    private Tensor pool(String call, SparseTensor x, int batches) {
        Tensor out = x.session().empty(DType.F32, batches, x.channels());
        try {
            x.session().backend().ops().voxelization().batchPool(x.features().array(call),
                    x.coordinates().array(call), pooling,
                    out.array(call));
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    public BatchPooling pooling() {
        return pooling;
    }

    @Override
    public String toString() {
        return "GlobalPooling[" + pooling + "]";
    }
}
