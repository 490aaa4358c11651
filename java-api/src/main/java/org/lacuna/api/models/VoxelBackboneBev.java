package org.lacuna.api.models;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.Tensor;
import org.lacuna.api.io.Safetensors;
import org.lacuna.api.layers.BevProjection;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.ops.BevReduction;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * A SECOND / CenterPoint-style voxel encoder ({@code VoxelBackBone8x} in OpenPCDet): submanifold and strided sparse
 * convolutions in stages of 16, 32, 64 and 128 channels (tensor stride 1, 2, 4, 8), a z-only strided convolution
 * (kernel 1×1×3, stride 1×1×2) that thins the height, then a {@link BevProjection} stacking the remaining z cells
 * into channels: a dense F32 bird's-eye-view map [batch, 128·Z', Y', X'].
 *
 * <p>Parameter keys (OpenPCDet's module names; every convolution bias-free and followed by BN + ReLU; kernels in
 * Lacuna's [volume, in, out] layout, see {@link ConvBn}):
 * <pre>
 * conv_input.0.weight, conv_input.1.*        3×3×3 submanifold, in → 16
 * conv1.0.0.weight, conv1.0.1.*              3×3×3 submanifold, 16 → 16
 * conv{i}.0.0.weight, conv{i}.0.1.*          i = 2..4: 3×3×3 stride 2, then
 * conv{i}.{1,2}.0.weight, conv{i}.{1,2}.1.*  two 3×3×3 submanifold (32, 64, 128)
 * conv_out.0.weight, conv_out.1.*            kernel (x, y, z) 1×1×3, stride 1×1×2, 128 → 128
 * </pre>
 * Strided outputs follow Lacuna's (and TorchSparse's) rule, the input coordinates floored to the coarser stride,
 * not spconv's padded output grid, so spconv-trained weights see coordinates shifted by up to one cell.
 */
public final class VoxelBackboneBev implements AutoCloseable {
    /** Output channels of the sparse part, before the z cells are stacked. */
    public static final int SPARSE_CHANNELS = 128;

    /**
     * @param origin the stride-1 coordinate of the grid's first cell on each axis
     * @param cells  the grid extent in stride-1 cells (x, y, z): the voxelisation's range over its voxel size
     */
    public record Config(int inChannels, Int3 origin, Int3 cells, DType dtype) {
        public Config {
            if (inChannels < 1 || origin == null || cells == null || dtype == null) {
                throw InvalidInputException.argument("VoxelBackboneBev.Config", "inChannels must be positive and "
                        + "origin, cells and dtype given");
            }
        }
    }

    private final Config config;
    private final List<ConvBn> layers = new ArrayList<>();
    private final BevProjection bev;
    private final java.util.Map<String, Safetensors.Entry> parameters;
    private final ClosedFlag closed = new ClosedFlag();

    private VoxelBackboneBev(Session session, Config config, ModelWeights w) {
        this.config = config;
        DType dt = config.dtype();
        ConvGeometry k3 = ConvGeometry.submanifold(3);
        try {
            layers.add(ConvBn.create(session, w, "conv_input.0.weight", "conv_input.1", k3, config.inChannels(), 16,
                    true, dt));
            layers.add(ConvBn.create(session, w, "conv1.0.0.weight", "conv1.0.1", k3, 16, 16, true, dt));
            int[] widths = {16, 32, 64, 128};
            for (int i = 2; i <= 4; i++) {
                String p = "conv" + i;
                layers.add(ConvBn.create(session, w, p + ".0.0.weight", p + ".0.1", ConvGeometry.strided(3, 2),
                        widths[i - 2], widths[i - 1], true, dt));
                for (int j = 1; j <= 2; j++) {
                    layers.add(ConvBn.create(session, w, p + "." + j + ".0.weight", p + "." + j + ".1", k3,
                            widths[i - 1], widths[i - 1], true, dt));
                }
            }
            layers.add(ConvBn.create(session, w, "conv_out.0.weight", "conv_out.1",
                    ConvGeometry.strided(Int3.of(1, 1, 3), Int3.of(1, 1, 2), Int3.cubic(1)), SPARSE_CHANNELS,
                    SPARSE_CHANNELS, true, dt));
            bev = projection(config, Int3.of(8, 8, 16));
            parameters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(w.taken()));
        } catch (RuntimeException e) {
            closed.markClosed();
            throw Closer.closeAfter(e, layers.toArray(AutoCloseable[]::new));
        }
    }

    public static VoxelBackboneBev create(Session session, Config config, ModelWeights weights) {
        if (session == null || config == null || weights == null) {
            throw InvalidInputException.argument("VoxelBackboneBev.create", "session, config and weights are required");
        }
        return session.own(new VoxelBackboneBev(session, config, weights));
    }

    /** The grid at the final tensor stride: every stride-1 cell of the extent lands in one of its cells. */
    static BevProjection projection(Config config, Int3 stride) {
        int[] lo = new int[3];
        int[] count = new int[3];
        for (int a = 0; a < 3; a++) {
            int s = stride.get(a);
            int first = Math.floorDiv(config.origin().get(a), s);
            int last = Math.floorDiv(config.origin().get(a) + config.cells().get(a) - 1, s);
            lo[a] = first * s;
            count[a] = last - first + 1;
        }
        return new BevProjection(Int3.of(lo[0], lo[1], lo[2]), Int3.of(count[0], count[1], count[2]),
                BevReduction.STACK_Z);
    }

    /** The dense BEV map F32 [batch, 128·Z', Y', X'] of x (stride 1); x stays open. */
    public Tensor forward(SparseTensor x) {
        return forward(x, -1);
    }

    /** As {@link #forward(SparseTensor)} with exactly {@code batches} maps. */
    public Tensor forward(SparseTensor x, int batches) {
        if (closed.isClosed()) {
            throw new org.lacuna.runtime.error.ResourceClosedException("VoxelBackboneBev.forward", "VoxelBackboneBev");
        }
        SparseTensor current = x;
        try {
            for (ConvBn layer : layers) {
                SparseTensor next = layer.forward(current);
                if (current != x) {
                    current.close();
                }
                current = next;
            }
            return batches < 0 ? bev.forward(current) : bev.forward(current, batches);
        } finally {
            if (current != x) {
                current.close();
            }
        }
    }

    /** [128·Z', Y', X'] of the map {@link #forward} returns, per sample. */
    public long[] mapShape() {
        return new long[] {bev.outputChannels(SPARSE_CHANNELS), bev.cells().y(), bev.cells().x()};
    }

    public java.util.Map<String, Safetensors.Entry> parameters() {
        return parameters;
    }

    public Config config() {
        return config;
    }

    @Override
    public synchronized void close() {
        if (closed.markClosed()) {
            Closer.closeAll("VoxelBackboneBev", layers);
        }
    }
}
