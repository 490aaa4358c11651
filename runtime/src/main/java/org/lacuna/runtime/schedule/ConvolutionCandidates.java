package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.TileOrder;

/**
 * The candidates for a sparse convolution on one kernel map: the backend's dataflows ({@link OpPaths}). On a GPU:
 * gather-GEMM-scatter, and the output-stationary implicit GEMM over unsorted, sorted and split-sorted row tiles. The
 * CPU backend has one dataflow, the fused blocked kernel (whose block size, set from the map's statistics, already
 * spans the two: small blocks are output-stationary, large ones gather-GEMM-scatter), so a CPU layer has one
 * candidate and nothing to choose.
 */
public final class ConvolutionCandidates {
    /** The CPU's single dataflow. */
    public static final String CPU_FUSED = "fused-blocked";
    public static final String GATHER_SCATTER = "gather-gemm-scatter";
    public static final String IMPLICIT_UNSORTED = "implicit-unsorted";
    public static final String IMPLICIT_SORTED = "implicit-sorted";
    public static final String IMPLICIT_SPLIT = "implicit-split";

    /** A layer's operands. */
    public record Operands(DeviceArray x, DeviceArray weights, DeviceArray bias, Activation activation, DeviceArray y) {
    }

    private ConvolutionCandidates() {
    }

    /** One candidate's op call, unbound: what a planned layer keeps and calls with each input's operands. */
    @FunctionalInterface
    public interface Call {
        void run(Operands operands, KernelMap map);
    }

    /**
     * The candidates on {@code ops}, bound to {@code operands} (or predict-only where it is null), their work not yet
     * estimated ({@link Candidate#lazy}): offering them for a signature the scheduler has decided costs no sort.
     */
    public static List<Candidate> of(String backend, ConvolutionOps ops, Object pathsOwner,
                                     ConvolutionStatistics statistics, Operands operands) {
        KernelMap map = statistics.map();
        List<Candidate> out = new ArrayList<>();
        for (String name : names(pathsOwner, backend)) {
            Call call = call(backend, ops, pathsOwner, name);
            // The work is estimated when the scheduler first decides the signature: a GPU path's sorts the map's rows.
            out.add(Candidate.lazy(name, backend + "." + name, () -> work(name, statistics), true, operands == null
                    ? null : () -> call.run(operands, map)));
        }
        return out;
    }

    /** The call of the candidate named {@code name} (one of {@link #names}), for a layer to keep in its plan. */
    public static Call call(String backend, ConvolutionOps ops, Object pathsOwner, String name) {
        if (pathsOwner instanceof OpPaths owner && !owner.convolutionPaths().isEmpty()) {
            if (!owner.convolutionPaths().contains(name)) {
                throw new NotSupportedException("ConvolutionCandidates.call", "no convolution path " + name
                        + " on " + backend + " (its paths: " + owner.convolutionPaths() + ")");
            }
            return (o, map) -> owner.sparseConvolution(name, o.x(), map, o.weights(), o.bias(), o.activation(),
                    o.y());
        }
        return (o, map) -> ops.sparseConvolution(o.x(), map, o.weights(), o.bias(), o.activation(),
                hint(backend, map), o.y());
    }

    /**
     * The dataflow hint for a backend with one path: the CPU ignores it (so it is not worth the redundancy's sort);
     * a GPU without {@link OpPaths} gets the rule's choice.
     */
    private static Dataflow hint(String backend, KernelMap map) {
        return backend.equals("cuda") ? Dataflow.choose(map.statistics()) : Dataflow.IMPLICIT_GEMM;
    }

    /** The {@link Dataflow} a candidate runs (for layers that report it). */
    public static Dataflow dataflowOf(String candidate, String backend, KernelMap map) {
        return switch (candidate) {
            case GATHER_SCATTER -> Dataflow.GATHER_GEMM_SCATTER;
            case IMPLICIT_UNSORTED, IMPLICIT_SORTED, IMPLICIT_SPLIT -> Dataflow.IMPLICIT_GEMM;
            default -> hint(backend, map);
        };
    }

    /** The work of dataflow {@code name}: the implicit GEMM computes its tiles' redundant products too. */
    public static Work work(String name, ConvolutionStatistics s) {
        double ds = s.dtype().byteSize();
        double in = s.inChannels();
        double out = s.outChannels();
        double pairs = s.totalPairs();
        double weights = s.volume() * in * out * ds;
        double outputs = s.pointsOut() * out * ds;
        return switch (name) {
            // The scatter adds each pair's product to an fp32 accumulator (read and written), then a pass rounds it.
            case GATHER_SCATTER -> new Work(2 * pairs * in * out,
                    pairs * in * ds + pairs * out * 8 + weights + s.pointsOut() * out * 4 + outputs,
                    Math.max(1, s.volume()) + 1);
            case IMPLICIT_UNSORTED, IMPLICIT_SORTED, IMPLICIT_SPLIT -> {
                double redundancy = s.redundancy(switch (name) {
                    case IMPLICIT_UNSORTED -> TileOrder.UNSORTED;
                    case IMPLICIT_SORTED -> TileOrder.SORTED;
                    default -> TileOrder.SORTED_SPLIT;
                });
                // Each 64-row tile loads the weights of every offset it computes: redundancy · pairs / 64 of them.
                double weightLoads = redundancy * pairs / 64 * in * out * ds;
                long tiles = (long) Math.ceil(s.pointsOut() / 64.0) * (long) Math.ceil(out / 64.0);
                yield new Work(2 * redundancy * pairs * in * out, redundancy * pairs * in * ds + weightLoads + outputs
                                + (name.equals(IMPLICIT_SPLIT) ? s.pointsOut() * out * 8 : 0),
                        name.equals(IMPLICIT_SPLIT) ? 2 : 1, Math.max(1, tiles));
            }
            // The CPU fused kernel (and the GPU's rule-chosen dataflow) do the pairs' products exactly; the CPU
            // widens the weights to fp32 on each call.
            default -> new Work(2 * pairs * in * out, pairs * in * ds + weights + s.volume() * in * out * 4 + outputs,
                    1);
        };
    }

    /** The dtype-independent name list of a backend, for reports: what {@link #of} would offer. */
    public static List<String> names(Object pathsOwner, String backend) {
        List<String> paths = pathsOwner instanceof OpPaths p ? p.convolutionPaths() : List.of();
        return paths.isEmpty() ? List.of(backend.equals("cuda") ? "dataflow-rule" : CPU_FUSED) : paths;
    }
}
