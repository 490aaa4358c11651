package org.lacuna.api.layers;

import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.sparseconv.CoordinateSet;

/**
 * Channel concatenation of two sparse tensors on the same coordinates, {@code [a | b]} per row: the skip connection
 * of a U-Net, where the upsampled decoder features (first, as TorchSparse's {@code torchsparse.cat([up, skip])})
 * meet the encoder's. Same coordinates means the same rows in the same order at the same tensor stride; a
 * transposed convolution's output is on the very coordinate set its downsampling came from, so the check is
 * usually an identity test.
 *
 * <p>Runs as the backend's concatColumns op, where the features are.
 */
public final class SparseConcat {
    private SparseConcat() {
    }

    /** {@code [a | b]} on a's coordinate set, in a's feature type (b must have the same one). */
    public static SparseTensor concat(SparseTensor a, SparseTensor b) {
        String call = "SparseConcat.concat";
        SparseHost.requireOpen(call, a);
        SparseHost.requireOpen(call, b);
        if (a.session() != b.session()) {
            throw InvalidInputException.argument(call, "the two inputs belong to different sessions");
        }
        if (a.featureType() != b.featureType()) {
            throw InvalidInputException.dtype(call, "feature types differ: " + a.featureType() + " and "
                    + b.featureType());
        }
        requireSameCoordinates(call, a.coordinateSet(), b.coordinateSet());
        Tensor features = a.session().empty(a.featureType(), a.size(), a.channels() + b.channels());
        try {
            a.session().backend().ops().elementwise().concatColumns(a.features().array(call),
                    b.features().array(call), features.array(call));
            return SparseTensor.onCoordinateSet(a.coordinateSet(), features);
        } catch (RuntimeException e) {
            features.close();
            throw e;
        }
    }

    /** Fails naming the first difference: size, tensor stride or the first row whose coordinate differs. */
    static void requireSameCoordinates(String call, CoordinateSet a, CoordinateSet b) {
        if (a == b) {
            return;
        }
        if (!a.tensorStride().equals(b.tensorStride())) {
            throw InvalidInputException.shape(call, "coordinate mismatch: tensor stride " + a.tensorStride()
                    + " against " + b.tensorStride());
        }
        if (a.size() != b.size()) {
            throw InvalidInputException.shape(call, "coordinate mismatch: " + a.size() + " coordinates against "
                    + b.size() + " (tensor stride " + a.tensorStride() + ")");
        }
        for (int row = 0; row < a.size(); row++) {
            if (a.key(row) != b.key(row)) {
                throw InvalidInputException.shape(call, "coordinate mismatch at row " + row + ": "
                        + CoordinateKey.describe(a.key(row)) + " against " + CoordinateKey.describe(b.key(row))
                        + " (same size " + a.size() + ", but different coordinates or order)");
            }
        }
    }
}
