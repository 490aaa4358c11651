package org.lacuna.api.layers;

import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.ops.Activation;

/**
 * {@code max(x, 0)} on the features of a sparse tensor, through the backend's bias-activation op (no host round
 * trip); the result keeps the input's coordinate set. Where a ReLU follows a convolution, the convolution's
 * epilogue ({@link SparseConv3d.Options#withActivation}) does it for free instead.
 */
public final class SparseReLU {
    public SparseTensor forward(SparseTensor x) {
        String call = "SparseReLU.forward";
        SparseHost.requireOpen(call, x);
        Tensor features = x.session().biasActivation(x.features(), null, Activation.RELU, x.featureType());
        try {
            return SparseTensor.onCoordinateSet(x.coordinateSet(), features);
        } catch (RuntimeException e) {
            features.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        return "SparseReLU";
    }
}
