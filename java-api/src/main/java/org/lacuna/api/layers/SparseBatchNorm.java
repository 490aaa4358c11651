package org.lacuna.api.layers;

import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * Inference-mode batch norm over the channels of a sparse tensor:
 * {@code y = γ (x − μ) / √(σ² + ε) + β} per channel, with the running statistics of training.
 *
 * <p>Where it follows a convolution it should be folded in instead ({@link #foldable()} to
 * {@link SparseConv3d#create(org.lacuna.api.Session, org.lacuna.runtime.sparseconv.ConvGeometry, int, int, float[],
 * float[], SparseConv3d.BatchNorm, SparseConv3d.Options)}), which costs nothing at run time. Standalone,
 * {@link #forward} runs the backend's batchNorm op; the per-channel scale and shift are uploaded once per session,
 * on the first forward there, and belong to that session.
 */
public final class SparseBatchNorm {
    /** PyTorch's and TorchSparse's default ε. */
    public static final double DEFAULT_EPSILON = 1e-5;

    private final float[] gamma;
    private final float[] beta;
    private final float[] mean;
    private final float[] variance;
    private final double epsilon;
    private final float[] scale;
    private final float[] shift;
    /** The scale and shift on the session of the latest forward. */
    private volatile DeviceParameters device;

    private record DeviceParameters(Session session, Tensor scale, Tensor shift) {
        boolean usableOn(Session s) {
            return session == s && !scale.isClosed() && !shift.isClosed();
        }
    }

    private SparseBatchNorm(float[] gamma, float[] beta, float[] mean, float[] variance, double epsilon) {
        this.gamma = gamma;
        this.beta = beta;
        this.mean = mean;
        this.variance = variance;
        this.epsilon = epsilon;
        int c = gamma.length;
        scale = new float[c];
        shift = new float[c];
        for (int i = 0; i < c; i++) {
            double s = gamma[i] / Math.sqrt((double) variance[i] + epsilon);
            scale[i] = (float) s;
            shift[i] = (float) (beta[i] - mean[i] * s);
        }
    }

    /** Every array has one entry per channel; copies are kept. */
    public static SparseBatchNorm of(float[] gamma, float[] beta, float[] mean, float[] variance, double epsilon) {
        String call = "SparseBatchNorm.of";
        if (gamma == null || beta == null || mean == null || variance == null) {
            throw InvalidInputException.argument(call, "gamma, beta, mean and variance are all required");
        }
        int c = gamma.length;
        if (c < 1 || beta.length != c || mean.length != c || variance.length != c) {
            throw InvalidInputException.shape(call, "gamma, beta, mean and variance need one entry per channel: got "
                    + c + ", " + beta.length + ", " + mean.length + " and " + variance.length);
        }
        if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
            throw InvalidInputException.argument(call, "epsilon " + epsilon + " must be finite and non-negative");
        }
        for (int i = 0; i < c; i++) {
            if (!Float.isFinite(gamma[i]) || !Float.isFinite(beta[i]) || !Float.isFinite(mean[i])
                    || !Float.isFinite(variance[i])) {
                throw InvalidInputException.argument(call, "channel " + i + " has a non-finite parameter");
            }
            if (!(variance[i] + epsilon > 0)) {
                throw InvalidInputException.argument(call, "channel " + i + ": variance " + variance[i] + " + epsilon "
                        + epsilon + " must be positive");
            }
        }
        return new SparseBatchNorm(gamma.clone(), beta.clone(), mean.clone(), variance.clone(), epsilon);
    }

    /** γ = 1, β = 0, μ = 0, σ² = 1 − ε: the identity (what PyTorch initialises a fresh batch norm to, up to ε). */
    public static SparseBatchNorm identity(int channels) {
        float[] ones = new float[channels];
        java.util.Arrays.fill(ones, 1f);
        return of(ones, new float[channels], new float[channels], ones, 0.0);
    }

    /** The parameters in the form {@link SparseConv3d} folds into its weights. */
    public SparseConv3d.BatchNorm foldable() {
        return new SparseConv3d.BatchNorm(gamma.clone(), beta.clone(), mean.clone(), variance.clone(), epsilon);
    }

    /** {@code y = x · scale + shift} per channel: scale = γ / √(σ² + ε). */
    public float[] scale() {
        return scale.clone();
    }

    /** shift = β − μ · scale. */
    public float[] shift() {
        return shift.clone();
    }

    public int channels() {
        return gamma.length;
    }

    public double epsilon() {
        return epsilon;
    }

    /** The normalised features on the same coordinates. */
    public SparseTensor forward(SparseTensor x) {
        String call = "SparseBatchNorm.forward";
        SparseHost.requireOpen(call, x);
        int c = channels();
        if (x.channels() != c) {
            throw InvalidInputException.shape(call, "channel mismatch: the input has " + x.channels()
                    + " channels but the batch norm has " + c);
        }
        DeviceParameters parameters = parametersOn(x.session());
        Tensor features = x.session().empty(x.featureType(), x.size(), c);
        try {
            x.session().backend().ops().elementwise().batchNorm(x.features().array(call),
                    parameters.scale().array(call), parameters.shift().array(call), features.array(call));
            return SparseTensor.onCoordinateSet(x.coordinateSet(), features);
        } catch (RuntimeException e) {
            features.close();
            throw e;
        }
    }

    private synchronized DeviceParameters parametersOn(Session session) {
        DeviceParameters current = device;
        if (current == null || !current.usableOn(session)) {
            Tensor s = session.fromFloats(scale, DType.F32, scale.length);
            try {
                current = new DeviceParameters(session, s, session.fromFloats(shift, DType.F32, shift.length));
            } catch (RuntimeException e) {
                s.close();
                throw e;
            }
            device = current;
        }
        return current;
    }

    @Override
    public String toString() {
        return "SparseBatchNorm[" + channels() + " channels, eps " + epsilon + "]";
    }
}
