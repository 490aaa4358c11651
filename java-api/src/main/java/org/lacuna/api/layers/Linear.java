package org.lacuna.api.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.backend.DeviceTimer;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.gemm.CsrMatrix;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.LinearKernel;
import org.lacuna.runtime.gemm.LinearKernelRule;
import org.lacuna.runtime.gemm.TwoFourConformance;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.gemm.WeightStatistics;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.tuning.MeasuredChoice;

/**
 * A fully connected layer {@code y = act(x · Wᵀ + b)} that holds its weight in every form that can serve it —
 * dense, 2:4-compressed for the sparse tensor cores, CSR for very sparse weights — and runs the fastest. Which
 * forms exist follows from the weight's statistics ({@link LinearKernelRule}); on a GPU the candidates are timed on
 * the first input of each token-count bucket and the winner is remembered ({@link MeasuredChoice}), so the layer
 * is never slower than dense by more than the measurement's noise. Weights that are not 2:4 are used as they are,
 * or pruned to 2:4 when {@link Options#pruneToTwoFour()} asks for it. Owned by its session's lifetime; close it to
 * free its weights early.
 */
public final class Linear implements AutoCloseable {
    private final Session session;
    private final Options options;
    private final int out;
    private final int in;
    private final WeightStatistics statistics;
    private final List<LinearKernel> candidates;
    private final DeviceArray dense;
    private final TwoFourWeight twoFour;
    private final CsrWeight csr;
    private final Tensor bias;
    private final MeasuredChoice<LinearKernel, Long> choice = new MeasuredChoice<>();
    private boolean closed;

    /**
     * How the layer stores and runs its weight.
     *
     * @param dtype          storage and input type: F16 or BF16 (all kernels) or F32 (dense and CSR only)
     * @param outputType     type of the output tensor
     * @param pruneToTwoFour magnitude-prune a weight that is not 2:4 (otherwise it is used as given)
     * @param kernel         force one kernel instead of choosing; a forced TWO_FOUR needs a 2:4 (or pruned) weight
     */
    public record Options(DType dtype, DType outputType, org.lacuna.runtime.ops.Activation activation,
                          boolean pruneToTwoFour, Optional<LinearKernel> kernel) {
        public Options {
            if (!dtype.isFloatingPoint() || !outputType.isFloatingPoint()) {
                throw InvalidInputException.dtype("Linear.Options", "dtype and outputType must be F32, F16 or BF16");
            }
        }

        public static Options of(DType dtype) {
            return new Options(dtype, dtype, org.lacuna.runtime.ops.Activation.NONE, false, Optional.empty());
        }

        public Options withOutputType(DType type) {
            return new Options(dtype, type, activation, pruneToTwoFour, kernel);
        }

        public Options withActivation(org.lacuna.runtime.ops.Activation act) {
            return new Options(dtype, outputType, act, pruneToTwoFour, kernel);
        }

        public Options pruned() {
            return new Options(dtype, outputType, activation, true, kernel);
        }

        public Options forcing(LinearKernel forced) {
            return new Options(dtype, outputType, activation, pruneToTwoFour, Optional.of(forced));
        }
    }

    private Linear(Session session, Options options, int out, int in, WeightStatistics statistics,
                   List<LinearKernel> candidates, DeviceArray dense, TwoFourWeight twoFour, CsrWeight csr, Tensor bias) {
        this.session = session;
        this.options = options;
        this.out = out;
        this.in = in;
        this.statistics = statistics;
        this.candidates = candidates;
        this.dense = dense;
        this.twoFour = twoFour;
        this.csr = csr;
        this.bias = bias;
    }

    /**
     * @param weight row-major [out, in]
     * @param bias   [out], or null
     */
    public static Linear create(Session session, float[] weight, int out, int in, float[] bias, Options options) {
        String call = "Linear.create";
        if (out <= 0 || in <= 0 || weight == null || weight.length != (long) out * in) {
            throw InvalidInputException.shape(call, (weight == null ? "no" : weight.length) + " weights do not form a ["
                    + out + ", " + in + "] matrix");
        }
        if (bias != null && bias.length != out) {
            throw InvalidInputException.shape(call, "bias has " + bias.length + " values, expected " + out);
        }
        for (int i = 0; i < weight.length; i++) {
            if (!Float.isFinite(weight[i])) {
                throw InvalidInputException.argument(call, "weight[" + i / in + "][" + i % in + "] is " + weight[i]);
            }
        }
        float[] w = weight;
        WeightStatistics statistics = WeightStatistics.of(w, out, in);
        if (options.pruneToTwoFour() && !statistics.twoFourConformant()) {
            w = TwoFourPruning.prune(weight, out, in);
            statistics = WeightStatistics.of(w, out, in);
        }
        List<LinearKernel> candidates;
        if (options.kernel().isPresent()) {
            LinearKernel forced = options.kernel().get();
            if (forced == LinearKernel.TWO_FOUR) {
                TwoFourConformance.require(w, out, in);
                if (options.dtype() == DType.F32) {
                    throw InvalidInputException.dtype(call, "the 2:4 kernel takes F16 or BF16 weights, not F32");
                }
            }
            candidates = List.of(forced);
        } else {
            candidates = LinearKernelRule.candidates(statistics, options.dtype());
        }
        var backend = session.backend();
        Closer cleanup = new Closer("Linear.create");
        try {
            DeviceArray dense = null;
            TwoFourWeight twoFour = null;
            CsrWeight csr = null;
            if (candidates.contains(LinearKernel.DENSE)) {
                DeviceArray d = DeviceWeights.uploadDense(backend, w, out, in, options.dtype());
                cleanup.register(d.buffer());
                dense = d;
            }
            if (candidates.contains(LinearKernel.TWO_FOUR)) {
                TwoFourWeight t = DeviceWeights.upload(backend, TwoFourWeights.compress(w, out, in, options.dtype()));
                cleanup.register(() -> DeviceWeights.release(t));
                twoFour = t;
            }
            if (candidates.contains(LinearKernel.CSR)) {
                CsrWeight c = DeviceWeights.upload(backend, CsrMatrix.fromDense(w, out, in, options.dtype()));
                cleanup.register(() -> DeviceWeights.release(c));
                csr = c;
            }
            Tensor biasTensor = bias == null ? null : session.fromFloats(bias, DType.F32, out);
            return session.own(new Linear(session, options, out, in, statistics, candidates, dense, twoFour, csr,
                    biasTensor));
        } catch (RuntimeException e) {
            throw cleanup.closeAfter(e);
        }
    }

    /** {@code act(x · Wᵀ + b)} for x [..., in] of the layer's dtype; a new tensor [..., out] of the output type. */
    public Tensor forward(Tensor x) {
        checkOpen("Linear.forward");
        if (x == null) {
            throw InvalidInputException.argument("Linear.forward", "the input tensor is null");
        }
        if (x.isClosed()) {
            throw new org.lacuna.runtime.error.ResourceClosedException("Linear.forward", "the input tensor");
        }
        if (x.session() != session) {
            throw InvalidInputException.argument("Linear.forward", "the input belongs to another session");
        }
        if (x.dtype() != options.dtype()) {
            throw InvalidInputException.dtype("Linear.forward", "input is " + x.dtype() + ", the layer takes " + options.dtype());
        }
        long[] dims = x.shape().dims();
        if (dims.length < 2 || dims[dims.length - 1] != in) {
            throw InvalidInputException.shape("Linear.forward", "input " + x.shape() + " must be [..., " + in + "]");
        }
        dims[dims.length - 1] = out;
        Tensor y = session.empty(options.outputType(), dims);
        try {
            DeviceArray xs = x.array("Linear.forward");
            DeviceArray ys = y.array("Linear.forward");
            LinearKernel kernel = kernelFor(xs.shape().rows(), k -> run(k, xs, ys));
            run(kernel, xs, ys);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    private LinearKernel kernelFor(long tokens, java.util.function.Consumer<LinearKernel> run) {
        if (candidates.size() == 1 || !session.backendName().equals("cuda")) {
            // The CPU backend runs every form through the same reference loop: nothing to measure.
            return candidates.get(0);
        }
        try (DeviceTimer timer = session.newTimer()) {
            return choice.choose(tokenBucket(tokens), candidates, timer, run);
        }
    }

    /** Token counts rounded up to a power of two share a measurement. */
    static long tokenBucket(long tokens) {
        return tokens <= 1 ? 1 : Long.highestOneBit(tokens - 1) << 1;
    }

    private void run(LinearKernel kernel, DeviceArray x, DeviceArray y) {
        var ops = session.backend().ops().gemm();
        DeviceArray b = bias == null ? null : bias.array("Linear.forward");
        switch (kernel) {
            case DENSE -> ops.linearDense(x, dense, b, options.activation(), y);
            case TWO_FOUR -> ops.linearTwoFour(x, twoFour, b, options.activation(), y);
            case CSR -> ops.linearCsr(x, csr, b, options.activation(), y);
        }
    }

    /** The kernel that served (or will serve) inputs of {@code tokens} rows: measured on a GPU, else the rule's first. */
    public LinearKernel kernelFor(long tokens) {
        return choice.decision(tokenBucket(tokens)).map(MeasuredChoice.Decision::chosen).orElse(candidates.get(0));
    }

    /** Every measurement made so far: per token bucket, each candidate's median time. */
    public java.util.Map<Long, MeasuredChoice.Decision<LinearKernel>> measurements() {
        return choice.decisions();
    }

    public List<LinearKernel> candidates() {
        return candidates;
    }

    public WeightStatistics statistics() {
        return statistics;
    }

    public int outFeatures() {
        return out;
    }

    public int inFeatures() {
        return in;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Closer.closeAll("Linear", dense == null ? null : dense.buffer(),
                twoFour == null ? null : () -> DeviceWeights.release(twoFour),
                csr == null ? null : () -> DeviceWeights.release(csr), bias);
    }

    private void checkOpen(String call) {
        if (closed) {
            throw new ResourceClosedException(call, "linear layer");
        }
    }
}
