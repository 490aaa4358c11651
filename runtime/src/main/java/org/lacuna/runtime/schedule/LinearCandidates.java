package org.lacuna.runtime.schedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.error.NotSupportedException;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.OpSet;
import org.lacuna.runtime.ops.TwoFourWeight;

/**
 * The candidates for a linear layer {@code y = act(x · Wᵀ + b)}: every dense path the backend has ({@link OpPaths}:
 * OpenBLAS and the Vector API GEMM on the CPU), the 2:4 kernel(s) where the weight is 2:4 and stored so, CSR where it
 * is stored so. This class alone knows which op serves which candidate, so an op's rename touches only it.
 */
public final class LinearCandidates {
    /**
     * The CPU 2:4 and CSR kernels pack tokens into panels of one AVX-512 register of fp32 (16 tokens), or of eight
     * (128) once a call has more than half that many tokens; each (row block × token panel) is one unit of work.
     */
    static final int CPU_NARROW_PANEL = 16;
    static final int CPU_WIDE_PANEL = 128;
    /** The GPU mma.sp kernel's token tile (32, 64 or 128 by the token count), the Hopper wgmma.sp kernel's, and
     *  both kernels' output rows per thread block. */
    static final int WGMMA_SP_TOKEN_TILE = 128;
    static final int SP_OUTPUT_ROWS = 128;
    /** The CPU kernels' output tiles: the dense GEMM's (rows × columns) and the sparse kernels' output rows. */
    static final int CPU_DENSE_TILE_ROWS = 192;
    static final int CPU_DENSE_TILE_COLS = 256;
    static final int CPU_SPARSE_ROWS = 128;
    /** Bytes of the CPU 2:4 form per dense weight byte: half the values plus a position byte per group of 4. */
    static final double CPU_TWO_FOUR_BYTES = 0.5625;

    /** The weight forms a layer holds (null where it does not hold one) and its epilogue. */
    public record Forms(DeviceArray dense, TwoFourWeight twoFour, CsrWeight csr, DeviceArray bias,
                        Activation activation, DType outputType) {
    }

    private LinearCandidates() {
    }

    /** One candidate's op call, unbound: what a planned layer keeps and calls with each input and output. */
    @FunctionalInterface
    public interface Call {
        void run(DeviceArray x, DeviceArray y);
    }

    /**
     * The candidates on {@code ops} of backend {@code backend} for {@code statistics}, bound to run on x into y (or
     * predict-only where x is null).
     */
    public static List<Candidate> of(String backend, OpSet ops, LinearStatistics statistics, Forms forms,
                                     DeviceArray x, DeviceArray y) {
        return offers(backend, ops, statistics, forms, x, y).candidates();
    }

    /**
     * A layer's candidates on one input ({@link #of}) and each one's unbound call by name, from one walk over the
     * backend's paths: what a layer planning a bucket needs, the candidates for the scheduler and the calls to keep.
     */
    public record Offers(List<Candidate> candidates, Map<String, Call> calls) {
        /** The call of the candidate named {@code name}. */
        public Call call(String name) {
            Call call = calls.get(name);
            if (call == null) {
                throw new NotSupportedException("LinearCandidates.call", "no linear candidate " + name
                        + " among " + calls.keySet());
            }
            return call;
        }
    }

    /** {@link #of}'s candidates with their calls ({@link Offers}), the backend's paths walked once. */
    public static Offers offers(String backend, OpSet ops, LinearStatistics statistics, Forms forms,
                                DeviceArray x, DeviceArray y) {
        List<Path> paths = paths(ops, statistics.tokens(), forms);
        List<Candidate> out = new ArrayList<>(paths.size());
        Map<String, Call> calls = new LinkedHashMap<>();
        for (Path p : paths) {
            Call call = p.call();
            calls.put(p.name(), call);
            out.add(candidate(backend, p.name(), statistics, forms, p.dense(), x == null ? null
                    : () -> call.run(x, y)));
        }
        return new Offers(out, java.util.Collections.unmodifiableMap(calls));
    }

    /** Whether {@link #of} offers a candidate named {@code name} for inputs of {@code tokens} rows. */
    public static boolean offers(OpSet ops, long tokens, Forms forms, String name) {
        return paths(ops, tokens, forms).stream().anyMatch(p -> p.name().equals(name));
    }

    private record Path(String name, boolean dense, Call call) {
    }

    /** This class alone knows which op serves which candidate. */
    private static List<Path> paths(OpSet ops, long tokens, Forms forms) {
        List<String> densePaths = ops instanceof OpPaths p ? p.denseLinearPaths() : List.of();
        List<String> twoFourPaths = ops instanceof OpPaths p ? p.twoFourPaths(tokens) : List.of();
        List<Path> out = new ArrayList<>();
        if (forms.dense() != null) {
            if (densePaths.isEmpty()) {
                out.add(new Path("dense", true,
                        (x, y) -> ops.gemm().linearDense(x, forms.dense(), forms.bias(), forms.activation(), y)));
            }
            for (String path : densePaths) {
                OpPaths paths = (OpPaths) ops;
                out.add(new Path(path + "-dense", true,
                        (x, y) -> paths.linearDense(path, x, forms.dense(), forms.bias(), forms.activation(), y)));
            }
        }
        if (forms.twoFour() != null) {
            if (twoFourPaths.isEmpty()) {
                out.add(new Path("two-four", false,
                        (x, y) -> ops.gemm().linearTwoFour(x, forms.twoFour(), forms.bias(), forms.activation(), y)));
            }
            for (String path : twoFourPaths) {
                OpPaths paths = (OpPaths) ops;
                out.add(new Path(path, false,
                        (x, y) -> paths.linearTwoFour(path, x, forms.twoFour(), forms.bias(), forms.activation(), y)));
            }
        }
        if (forms.csr() != null) {
            out.add(new Path("csr", false,
                    (x, y) -> ops.gemm().linearCsr(x, forms.csr(), forms.bias(), forms.activation(), y)));
        }
        return out;
    }

    /** The candidate named {@code name} with its work on {@code statistics}: for tests and what-if reports. */
    public static Candidate predicted(String backend, String name, LinearStatistics statistics, DType outputType) {
        return candidate(backend, name, statistics, new Forms(null, null, null, null, Activation.NONE, outputType),
                name.endsWith("dense"), null);
    }

    private static Candidate candidate(String backend, String name, LinearStatistics s, Forms forms, boolean dense,
                                       Runnable run) {
        return new Candidate(name, backend + "." + name, work(backend, name, s, forms.outputType()), dense, run);
    }

    /** The work of candidate {@code name}: what its kernel really computes and moves. */
    static Work work(String backend, String name, LinearStatistics s, DType outputType) {
        double t = s.tokens();
        double in = s.in();
        double out = s.out();
        double ds = s.dtype().byteSize();
        double io = t * in * ds + t * out * outputType.byteSize();
        boolean cpu = !backend.equals("cuda");
        if (name.endsWith("dense")) {
            // The CPU reads the weight's fp32 form (widened once per weight and kept).
            double weight = in * out * (cpu ? 4 : ds);
            long tiles = cpu ? tiles(t, CPU_DENSE_TILE_ROWS) * tiles(out, CPU_DENSE_TILE_COLS) : Work.FILLS_DEVICE;
            return new Work(2 * t * in * out, weight + io, 1, tiles, cpu ? (long) s.in() * s.out() : 0);
        }
        if (name.equals("csr")) {
            double nnz = s.nonZeros();
            double panel = cpuTokenPanel(t);
            double tokens = cpu ? roundUp(t, panel) : t;
            return new Work(2 * tokens * nnz, nnz * (ds + 4) + 4 * (out + 1) + io, 1,
                    cpu ? tiles(out, CPU_SPARSE_ROWS) * tiles(t, panel) : Work.FILLS_DEVICE, cpu ? (long) nnz : 0);
        }
        // 2:4: half the products of a dense GEMM over the token count padded to the kernel's tile, in thread blocks
        // of one token tile by SP_OUTPUT_ROWS outputs (CPU_SPARSE_ROWS on the CPU; a one-token call is a single row of
        // blocks).
        double tile = cpu ? cpuTokenPanel(t) : name.equals("wgmma.sp") ? WGMMA_SP_TOKEN_TILE
                : t <= 32 ? 32 : t <= 64 ? 64 : 128;
        double weight = cpu ? CPU_TWO_FOUR_BYTES * in * out * ds : in * out * ds / 2 + in * out / 8;
        long blocks = tiles(t, tile) * tiles(out, cpu ? CPU_SPARSE_ROWS : SP_OUTPUT_ROWS);
        return new Work(roundUp(t, tile) * in * out, weight + io, 1, blocks, cpu ? (long) s.in() * s.out() : 0);
    }

    /** The token panel the CPU sparse kernels pack {@code tokens} into. */
    static double cpuTokenPanel(double tokens) {
        return tokens > CPU_WIDE_PANEL / 2 ? CPU_WIDE_PANEL : CPU_NARROW_PANEL;
    }

    private static long tiles(double n, double tile) {
        return Math.max(1, (long) Math.ceil(n / tile));
    }

    private static double roundUp(double n, double multiple) {
        return Math.ceil(n / multiple) * multiple;
    }
}
