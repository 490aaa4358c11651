package org.lacuna.bench.gpu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lacuna.api.io.KittiBinReader;
import org.lacuna.api.io.Safetensors;
import org.lacuna.api.models.MinkUNetTopology;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.runtime.cpu.CpuVoxelizer;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.KernelMap;

/**
 * MinkUNet's convolutions as the sparse-convolution benchmark times them: every {@code SparseConv3d} of the network
 * ({@link org.lacuna.api.models.MinkUNet}'s topology and parameter names), in forward order, each with the kernel map
 * it meets on a given stride-1 coordinate set, and its weights drawn by {@link ModelWeights#random} under the
 * network's own keys. The layers are walked here rather than taken from a built {@code MinkUNet} because the
 * benchmark needs each layer's map and weights, which the model keeps private, and because its host-side residual
 * sums and concatenations are no part of what is timed. The anchor script mirrors {@link #layerKeys} (the test
 * compares the two lists).
 */
public final class SparseConvNetwork {
    /** TorchSparse's MinkUNet widths cs[0..8]. */
    public static final int[] DEFAULT_CHANNELS = MinkUNetTopology.defaultChannels();
    /** x, y, z, reflectance: what a KITTI point carries. */
    public static final int DEFAULT_IN_CHANNELS = 4;
    public static final double VOXEL_SIZE = 0.05;
    public static final String SWEEP = "shared/data/kitti-velodyne-000001.bin";
    static final long WEIGHT_SEED = 2024;

    /** One convolution: its parameter key (without {@code .kernel}), geometry, widths, map and F32 weights. */
    public record Layer(String key, ConvGeometry geometry, int in, int out, KernelMap map, float[] weights) {
        public long pairs() {
            return map.totalPairs();
        }

        /** Useful FLOPs: one multiply-add per pair, input channel and output channel. */
        public long usefulFlops() {
            return 2L * map.totalPairs() * in * out;
        }
    }

    private final List<Layer> layers;
    private final Map<String, Safetensors.Entry> parameters;

    private SparseConvNetwork(List<Layer> layers, Map<String, Safetensors.Entry> parameters) {
        this.layers = List.copyOf(layers);
        this.parameters = parameters;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** Every weight by its MinkUNet key ({@code stem.0.kernel}, ...), F32 [volume, in, out]. */
    public Map<String, Safetensors.Entry> parameters() {
        return parameters;
    }

    public long usefulFlops() {
        return layers.stream().mapToLong(Layer::usefulFlops).sum();
    }

    /** The network on {@code stride1} (batch indices as given), weights seeded so every run times the same ones. */
    public static SparseConvNetwork build(CoordinateSet stride1, int inChannels, int[] cs) {
        ModelWeights weights = ModelWeights.random(WEIGHT_SEED);
        Walker walker = new Walker(weights);
        walk(inChannels, cs, stride1, walker);
        return new SparseConvNetwork(walker.layers, new LinkedHashMap<>(weights.taken()));
    }

    /** The layer keys in forward order, without building anything: what {@code --list-cases} mirrors. */
    public static List<String> layerKeys(int inChannels, int[] cs) {
        List<String> keys = new ArrayList<>();
        walk(inChannels, cs, null, (key, set, geometry, in, out) -> {
            keys.add(key);
            return null;
        });
        return keys;
    }

    private interface Visitor {
        /** Adds one convolution on {@code set}; returns its output coordinates (null when only listing). */
        CoordinateSet conv(String key, CoordinateSet set, ConvGeometry geometry, int in, int out);
    }

    /** MinkUNet's convolutions in forward order, from {@link MinkUNetTopology}, each on the coordinates it reads. */
    private static void walk(int inChannels, int[] cs, CoordinateSet stride1, Visitor v) {
        CoordinateSet[] levels = new CoordinateSet[5];
        levels[0] = stride1;
        for (MinkUNetTopology.Layer layer : MinkUNetTopology.layers(inChannels, cs)) {
            CoordinateSet set = levels[layer.level()];
            if (layer.residual()) {
                for (MinkUNetTopology.Conv conv : MinkUNetTopology.residualConvolutions(layer.key(), layer.in(),
                        layer.out())) {
                    v.conv(conv.key(), set, conv.geometry(), conv.in(), conv.out());
                }
                continue;
            }
            CoordinateSet output = v.conv(layer.key(), set, layer.geometry(), layer.in(), layer.out());
            // A transposed conv lands on the coordinates the matching strided conv came from, already known.
            if (layer.role() == MinkUNetTopology.Role.DOWN) {
                levels[layer.outputLevel()] = output;
            }
        }
    }

    private static final class Walker implements Visitor {
        final ModelWeights weights;
        final List<Layer> layers = new ArrayList<>();

        Walker(ModelWeights weights) {
            this.weights = weights;
        }

        @Override
        public CoordinateSet conv(String key, CoordinateSet set, ConvGeometry geometry, int in, int out) {
            KernelMap map = set.kernelMap(geometry);
            layers.add(new Layer(key, geometry, in, out, map, weights.kernel(key + ".kernel", geometry, in, out)));
            return map.outputs();
        }
    }

    /**
     * Builds every map of the network on a fresh copy of {@code keys} (no cache to hit): what the first forward
     * over a new cloud pays on the host before any convolution runs.
     */
    static long buildMapsNanos(long[] keys, int inChannels, int[] cs) {
        long start = System.nanoTime();
        walk(inChannels, cs, CoordinateSet.ofKeys(keys, new int[] {1, 1, 1}), (key, set, geometry, in, out) ->
                set.kernelMap(geometry).outputs());
        return System.nanoTime() - start;
    }

    /** The stride-1 coordinates of {@code batch} copies of one voxelised cloud, batch indices 0 .. batch-1. */
    public static CoordinateSet batched(int[] coordinates, int batch) {
        int rows = coordinates.length / 4;
        int[] all = new int[coordinates.length * batch];
        for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rows; r++) {
                int at = (b * rows + r) * 4;
                all[at] = b;
                System.arraycopy(coordinates, r * 4 + 1, all, at + 1, 3);
            }
        }
        return CoordinateSet.of(all, new int[] {1, 1, 1});
    }

    /** The KITTI sweep voxelised at 5 cm: [M, 4] (batch 0, x, y, z). */
    public static int[] voxelise(PointCloud cloud) {
        return new CpuVoxelizer().voxelize(cloud, Voxelization.cubic(VOXEL_SIZE, VoxelReduction.MEAN)).coordinates();
    }

    /**
     * The sweep: {@code -Dlacuna.kitti} or {@code LACUNA_KITTI} if set, else {@code shared/data} in, beside or two
     * levels above the working directory (the device machine's working tree, the repository, a module).
     */
    public static Optional<Path> findSweep() {
        String given = System.getProperty("lacuna.kitti", System.getenv("LACUNA_KITTI"));
        List<Path> candidates = given != null && !given.isBlank() ? List.of(Path.of(given))
                : List.of(Path.of(SWEEP), Path.of("..").resolve(SWEEP), Path.of("../..").resolve(SWEEP));
        return candidates.stream().filter(Files::isRegularFile).findFirst();
    }

    static String whereLooked() {
        String given = System.getProperty("lacuna.kitti", System.getenv("LACUNA_KITTI"));
        return given != null && !given.isBlank() ? given
                : Path.of(SWEEP).toAbsolutePath().normalize() + ", " + Path.of("..").resolve(SWEEP).toAbsolutePath()
                .normalize() + ", " + Path.of("../..").resolve(SWEEP).toAbsolutePath().normalize();
    }

    static PointCloud readSweep(Path path) {
        return KittiBinReader.read(path);
    }
}
