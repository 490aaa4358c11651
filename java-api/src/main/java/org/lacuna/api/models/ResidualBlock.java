package org.lacuna.api.models;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;

/**
 * TorchSparse's (SPVNAS-era) {@code ResidualBlock} at stride 1: {@code relu(main(x) + shortcut(x))} with
 * main = 3×3×3 conv + BN + ReLU, 3×3×3 conv + BN, and shortcut = x, or a 1×1×1 conv + BN where the channels change.
 *
 * <p>Parameter keys under {@code prefix}: {@code net.0.kernel}, {@code net.1.*} (first conv and norm),
 * {@code net.3.kernel}, {@code net.4.*} (second), and where channels change {@code downsample.0.kernel},
 * {@code downsample.1.*}; see {@link ConvBn} for shapes.
 *
 * <p>The sum and the final ReLU run as the backend's add and activation ops, where the features are.
 */
public final class ResidualBlock implements AutoCloseable {
    private final ConvBn first;
    private final ConvBn second;
    private final ConvBn downsample;
    private final int in;

    private ResidualBlock(ConvBn first, ConvBn second, ConvBn downsample, int in) {
        this.first = first;
        this.second = second;
        this.downsample = downsample;
        this.in = in;
    }

    public static ResidualBlock create(Session session, ModelWeights weights, String prefix, int in, int out,
                                       DType dtype) {
        Closer made = new Closer("ResidualBlock.create");
        try {
            List<ConvBn> convs = new ArrayList<>();
            for (MinkUNetTopology.Conv conv : MinkUNetTopology.residualConvolutions(prefix, in, out)) {
                convs.add(made.register(ConvBn.create(session, weights, conv.key() + ".kernel", conv.normKey(),
                        conv.geometry(), conv.in(), conv.out(), conv.relu(), dtype)));
            }
            return session.own(new ResidualBlock(convs.get(0), convs.get(1), convs.size() > 2 ? convs.get(2) : null,
                    in));
        } catch (RuntimeException e) {
            throw made.closeAfter(e);
        }
    }

    /** The block's convolutions in the order they run: first, second, then the 1×1×1 shortcut if it has one. */
    List<ConvBn> convs() {
        return downsample == null ? List.of(first, second) : List.of(first, second, downsample);
    }

    /** A new sparse tensor on x's coordinates; x stays open. */
    public SparseTensor forward(SparseTensor x) {
        if (x.channels() != in) {
            throw InvalidInputException.shape("ResidualBlock.forward", "channel mismatch: the input has "
                    + x.channels() + " channels but the block takes " + in);
        }
        SparseTensor main;
        try (SparseTensor hidden = first.forward(x)) {
            main = second.forward(hidden);
        }
        try (main) {
            if (downsample == null) {
                return addRelu(main, x);
            }
            try (SparseTensor shortcut = downsample.forward(x)) {
                return addRelu(main, shortcut);
            }
        }
    }

    /** {@code relu(a + b)} on a's coordinates, through the backend's add and activation ops (both on one coordinate set). */
    static SparseTensor addRelu(SparseTensor a, SparseTensor b) {
        if (a.size() != b.size() || a.channels() != b.channels() || a.featureType() != b.featureType()) {
            throw InvalidInputException.shape("ResidualBlock.addRelu", "the branches are " + a.featureType() + " ["
                    + a.size() + ", " + a.channels() + "] and " + b.featureType() + " [" + b.size() + ", "
                    + b.channels() + "]");
        }
        Session session = a.session();
        Tensor features;
        try (Tensor sum = session.add(a.features(), b.features())) {
            features = session.biasActivation(sum, null, Activation.RELU, a.featureType());
        }
        try {
            return SparseTensor.onCoordinateSet(a.coordinateSet(), features);
        } catch (RuntimeException e) {
            features.close();
            throw e;
        }
    }

    @Override
    public void close() {
        Closer.closeAll("ResidualBlock", downsample, second, first);
    }
}
