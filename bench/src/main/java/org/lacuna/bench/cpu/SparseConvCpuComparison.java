package org.lacuna.bench.cpu;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.KittiBinReader;
import org.lacuna.api.models.MinkUNet;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.api.pointcloud.SparseTensor;
import org.lacuna.bench.gpu.SparseConvExport;
import org.lacuna.bench.gpu.SparseConvNetwork;
import org.lacuna.runtime.Backend;
import org.lacuna.runtime.DType;
import org.lacuna.runtime.DeviceArray;
import org.lacuna.runtime.HostData;
import org.lacuna.runtime.Shape;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;

/**
 * MinkUNet on the KITTI sweep at 5 cm on the CPU, the serving backend beside the double-precision reference in one
 * run: the convolution chain of {@link SparseConvNetwork} (fp32, maps cached, per-layer medians), the map building
 * of the whole network from fresh coordinates, and the java-api {@link MinkUNet} forward with its batch norm, ReLU,
 * residual sums and concatenations (maps cached after the first forward). Wall clock, medians; a shared machine is
 * noisy, so read the ratios. Arguments: serving iterations (default 7), reference iterations (default 2, 0 skips the reference);
 * {@code -Dlacuna.bench.chainOnly=true} times the convolution chain alone;
 * {@code -Dlacuna.bench.exportDir} also exports the maps and weights for a PyTorch run of the same chain.
 */
public final class SparseConvCpuComparison {
    private SparseConvCpuComparison() {
    }

    public static void main(String[] args) throws java.io.IOException {
        int servingRuns = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int referenceRuns = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Path sweep = SparseConvNetwork.findSweep().orElseThrow(() -> new IllegalStateException("no KITTI sweep"));
        PointCloud cloud = KittiBinReader.read(sweep);
        CoordinateSet stride1 = SparseConvNetwork.batched(SparseConvNetwork.voxelise(cloud), 1);
        int in = SparseConvNetwork.DEFAULT_IN_CHANNELS;
        int[] cs = SparseConvNetwork.DEFAULT_CHANNELS;
        SparseConvNetwork network = SparseConvNetwork.build(stride1, in, cs);
        System.out.printf(Locale.ROOT, "KITTI %s at 5 cm: %,d voxels, %d convolutions, %.2f GFLOP useful, %d threads%n",
                sweep, stride1.size(), network.layers().size(), network.usefulFlops() / 1e9,
                Runtime.getRuntime().availableProcessors());
        String exportDir = System.getProperty("lacuna.bench.exportDir");
        if (exportDir != null) {
            // The maps and weights for a PyTorch run of the same chain (bench/anchors/sparse_conv_anchor.py's format).
            new SparseConvExport(Path.of(exportDir), sweep.toString(), in, cs).add(1, network);
        }

        double[] mapMs = new double[Boolean.getBoolean("lacuna.bench.chainOnly") ? 1 : 5];
        long[] keys = stride1.keys();
        for (int i = 0; i < mapMs.length; i++) {
            mapMs[i] = SparseConvNetwork.buildMapsNanos(keys, in, cs) / 1e6;
        }
        System.out.printf(Locale.ROOT, "map building, every map of the network from fresh coordinates: median %.1f ms "
                + "(min %.1f)%n", median(mapMs), Arrays.stream(mapMs).min().orElse(0));

        if (!Boolean.getBoolean("lacuna.bench.chainOnly")) {
            mapTables(network);
        }
        double[][] serving = chain(new CpuBackendProvider().open(0), network, servingRuns);
        double[][] reference = referenceRuns == 0 ? null
                : chain(new ReferenceBackendProvider().open(0), network, referenceRuns);
        System.out.println("layer                               pairs      in   out   serving ms  GFLOP/s   reference ms"
                + "  speedup");
        double servingTotal = 0;
        double referenceTotal = 0;
        for (int l = 0; l < network.layers().size(); l++) {
            SparseConvNetwork.Layer layer = network.layers().get(l);
            double s = median(serving[l]);
            double r = reference == null ? Double.NaN : median(reference[l]);
            servingTotal += s;
            referenceTotal += r;
            System.out.printf(Locale.ROOT, "%-32s %9d %5d %5d %10.2f %8.1f %12.1f %8.1fx%n", layer.key(),
                    layer.pairs(), layer.in(), layer.out(), s, layer.usefulFlops() / s / 1e6, r, r / s);
        }
        System.out.printf(Locale.ROOT, "convolution chain (sum of per-layer medians): serving %.1f ms (%.1f GFLOP/s), "
                        + "reference %.1f ms (%.1f GFLOP/s), %.1fx%n", servingTotal,
                network.usefulFlops() / servingTotal / 1e6, referenceTotal, network.usefulFlops() / referenceTotal / 1e6,
                referenceTotal / servingTotal);

        if (Boolean.getBoolean("lacuna.bench.chainOnly")) {
            return;
        }
        double servingForward = forward(CpuBackendProvider.NAME, cloud, servingRuns);
        double referenceForward = referenceRuns == 0 ? Double.NaN
                : forward(ReferenceBackendProvider.NAME, cloud, referenceRuns);
        System.out.printf(Locale.ROOT, "MinkUNet.forward (java-api, F32, maps cached): serving %.1f ms, reference "
                + "%.1f ms, %.1fx; minus the serving chain above (host sums, concatenations, classifier; timed apart, so only "
                + "meaningful on a quiet machine): %.1f ms%n",
                servingForward, referenceForward, referenceForward / servingForward, servingForward - servingTotal);
    }

    /**
     * {@code buildMapTables} over the network's distinct forward maps (a transposed map is its downsampling map
     * reversed, not a query), the serving backend's builder beside the reference's, alternating, medians of 5.
     */
    private static void mapTables(SparseConvNetwork network) {
        List<KernelMap> forward = new ArrayList<>();
        java.util.Set<KernelMap> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (SparseConvNetwork.Layer layer : network.layers()) {
            if (!layer.geometry().transposed() && seen.add(layer.map())) {
                forward.add(layer.map());
            }
        }
        try (Backend serving = new CpuBackendProvider().open(0);
             Backend reference = new ReferenceBackendProvider().open(0)) {
            double[] servingMs = new double[5];
            double[] referenceMs = new double[5];
            for (int run = -1; run < servingMs.length; run++) {
                for (Backend backend : List.of(serving, reference)) {
                    long start = System.nanoTime();
                    for (KernelMap map : forward) {
                        backend.ops().convolution().buildMapTables(map.inputs(), map.outputs(), map.geometry());
                    }
                    if (run >= 0) {
                        (backend == serving ? servingMs : referenceMs)[run] = (System.nanoTime() - start) / 1e6;
                    }
                }
            }
            System.out.printf(Locale.ROOT, "buildMapTables over the %d forward maps: serving %.1f ms, reference %.1f ms, "
                    + "%.1fx%n", forward.size(), median(servingMs), median(referenceMs),
                    median(referenceMs) / median(servingMs));
        }
    }

    /** Per layer, the wall-clock ms of each run of the whole chain (after one warm-up run). */
    private static double[][] chain(Backend backend, SparseConvNetwork network, int runs) {
        try (backend) {
            ConvolutionOps ops = backend.ops().convolution();
            List<SparseConvNetwork.Layer> layers = network.layers();
            List<DeviceArray[]> buffers = new ArrayList<>();
            SplittableRandom random = new SplittableRandom(7);
            for (SparseConvNetwork.Layer layer : layers) {
                float[] x = new float[layer.map().inputCount() * layer.in()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextDouble(-1, 1);
                }
                buffers.add(new DeviceArray[] {
                    HostData.upload(backend, DType.F32, Shape.of(layer.map().inputCount(), layer.in()), x),
                    HostData.upload(backend, DType.F32, Shape.of(layer.map().volume(), layer.in(), layer.out()),
                            layer.weights()),
                    HostData.upload(backend, DType.F32, Shape.of(layer.map().outputCount(), layer.out()),
                            new float[layer.map().outputCount() * layer.out()])});
            }
            double[][] ms = new double[layers.size()][runs];
            for (int run = -1; run < runs; run++) {
                for (int l = 0; l < layers.size(); l++) {
                    DeviceArray[] b = buffers.get(l);
                    long start = System.nanoTime();
                    ops.sparseConvolution(b[0], layers.get(l).map(), b[1], null, Activation.RELU,
                            Dataflow.IMPLICIT_GEMM, b[2]);
                    if (run >= 0) {
                        ms[l][run] = (System.nanoTime() - start) / 1e6;
                    }
                }
            }
            return ms;
        }
    }

    private static double forward(String backend, PointCloud cloud, int runs) {
        try (Session session = Lacuna.open(backend, 0)) {
            SparseTensor x = SparseTensor.voxelize(session, cloud, Voxelization.cubic(SparseConvNetwork.VOXEL_SIZE,
                    VoxelReduction.MEAN), VoxelFeatures.POSITIONS, DType.F32);
            try (x; MinkUNet net = MinkUNet.create(session, MinkUNet.Config.semanticKitti(3), ModelWeights.random(5))) {
                net.forward(x).close();
                double[] ms = new double[runs];
                for (int i = 0; i < runs; i++) {
                    long start = System.nanoTime();
                    net.forward(x).close();
                    ms[i] = (System.nanoTime() - start) / 1e6;
                }
                return median(ms);
            }
        }
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
