package org.lacuna.api.layers;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.runtime.attention.KeyScore;
import org.lacuna.runtime.attention.ScoreRule;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.lifetime.Closer;

/**
 * A stack of {@link TransformerEncoderLayer}s with token dropping configured per layer. A layer that ranks tokens by
 * the attention they received ({@link ScoreRule#CLS_ATTENTION}, {@link ScoreRule#MEAN_ATTENTION_RECEIVED}) gets it
 * from the layer before, which computes it as a side output of its attention; L2-norm layers score themselves.
 * Caller-given scores need the single-layer {@link TransformerEncoderLayer#forward(Tensor, Sequences, Tensor, Tensor,
 * KeyScore)}.
 */
public final class TransformerEncoder implements AutoCloseable {
    private final List<TransformerEncoderLayer> layers;
    private final ClosedFlag closed = new ClosedFlag();

    private TransformerEncoder(List<TransformerEncoderLayer> layers) {
        this.layers = layers;
    }

    /** A stack of the given layers (all of one session); closing it closes them. */
    public static TransformerEncoder of(Session session, List<TransformerEncoderLayer> layers) {
        String call = "TransformerEncoder.of";
        if (layers.isEmpty()) {
            throw InvalidInputException.argument(call, "an encoder needs at least one layer");
        }
        for (int i = 0; i < layers.size(); i++) {
            TokenDropping dropping = layers.get(i).config().tokenDropping();
            if (dropping == null) {
                continue;
            }
            if (dropping.score() == ScoreRule.GIVEN) {
                throw InvalidInputException.argument(call, "layer " + i + " ranks by given scores, which a stack "
                        + "cannot supply: run it with TransformerEncoderLayer.forward(x, sequences, scores, ...)");
            }
            if (dropping.score().keyScore().isPresent() && i == 0) {
                throw InvalidInputException.argument(call, "layer 0 ranks by " + dropping.score()
                        + " but there is no layer before it to measure that attention");
            }
            if (i > 0 && layers.get(i).config().hidden() != layers.get(i - 1).config().hidden()) {
                throw InvalidInputException.shape(call, "layer " + i + " is " + layers.get(i).config().hidden()
                        + " wide, the layer before it " + layers.get(i - 1).config().hidden());
            }
        }
        return session.own(new TransformerEncoder(List.copyOf(layers)));
    }

    /** Creates the layers from their configurations and weights, then the stack. */
    public static TransformerEncoder create(Session session, List<TransformerEncoderLayer.Config> configs,
                                            List<TransformerEncoderLayer.Weights> weights) {
        if (configs.size() != weights.size()) {
            throw InvalidInputException.argument("TransformerEncoder.create", configs.size() + " configurations but "
                    + weights.size() + " weight sets");
        }
        List<TransformerEncoderLayer> layers = new ArrayList<>();
        try {
            for (int i = 0; i < configs.size(); i++) {
                layers.add(TransformerEncoderLayer.create(session, configs.get(i), weights.get(i))
                        .named("encoder." + i));
            }
            return of(session, layers);
        } catch (RuntimeException e) {
            throw Closer.closeAfter(e, layers.toArray(AutoCloseable[]::new));
        }
    }

    /** Every layer in turn on x [tokens, hidden]; a new tensor of the same shape. */
    public Tensor forward(Tensor x, Sequences sequences) {
        if (closed.isClosed()) {
            throw new ResourceClosedException("TransformerEncoder.forward", "encoder");
        }
        Tensor hidden = x;
        Tensor scores = null;
        // Trials the scheduler's first forward opens wait for its end (flushLater below; a failure ends it too).
        org.lacuna.runtime.schedule.Scheduler scheduler = x.session().scheduler();
        scheduler.forwardStarting();
        boolean ended = false;
        try {
            for (int i = 0; i < layers.size(); i++) {
                KeyScore emit = i + 1 < layers.size() ? wanted(layers.get(i + 1)) : null;
                TransformerEncoderLayer.Output out = layers.get(i).forward(hidden, sequences, scores, null, emit);
                if (hidden != x) {
                    hidden.close();
                }
                if (scores != null) {
                    scores.close();
                }
                hidden = out.hidden();
                scores = out.keyScores();
            }
            // The end of a plan: choices made on this pass reach the tuning store's file once, written behind (else a
            // no-op): the forward waits for no disk, and the hand-off is charged as choosing's host time.
            // While trials are deciding, the hand-off decides too (it starts the trials held through the first
            // forward or decides them, re-opens warm re-trials): its CPU time is charged as well. A planned forward's
            // is not read (reading it costs more than the hand-off).
            long handing = System.nanoTime();
            boolean deciding = scheduler.deciding() > 0;
            long handingCpu = deciding ? ChoosingTime.cpuNanos() : 0;
            ended = true;
            scheduler.flushLater();
            if (deciding) {
                ChoosingTime.charge(scheduler, System.nanoTime() - handing, ChoosingTime.cpuNanos() - handingCpu);
            } else {
                ChoosingTime.charge(scheduler, System.nanoTime() - handing);
            }
            return hidden;
        } catch (RuntimeException e) {
            if (hidden != x) {
                hidden.close();
            }
            throw e;
        } finally {
            if (!ended) {
                scheduler.forwardFailed();
            }
            if (scores != null) {
                scores.close();
            }
        }
    }

    /** The received-attention scores a layer ranks by, if it ranks by attention. */
    private static KeyScore wanted(TransformerEncoderLayer layer) {
        TokenDropping dropping = layer.config().tokenDropping();
        return dropping == null ? null : dropping.score().keyScore().orElse(null);
    }

    public List<TransformerEncoderLayer> layers() {
        return layers;
    }

    @Override
    public void close() {
        if (closed.markClosed()) {
            Closer.closeAll("TransformerEncoder", layers);
        }
    }
}
