package org.lacuna.bench.gpu;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.Dataflow;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;
import org.lacuna.runtime.sparseconv.TileOrder;

/**
 * MinkUNet's sparse convolutions on the KITTI sweep at 5 cm voxels, fp16, batch 1 and 4 (four copies of the sweep,
 * batch indices 0..3). Per layer ({@code minkunet-b<batch>-<key>}, key as in MinkUNet's state dict without
 * {@code .kernel}) both dataflows, {@code gather-gemm-scatter} and {@code implicit-gemm} (anchored on the former),
 * with the map's pairs and implicit-GEMM redundancy unsorted / sorted / sorted+split; end to end
 * ({@code minkunet-b<batch>-end-to-end}) every layer in forward order with the dataflow {@link Dataflow#choose}
 * picks ({@code chosen}, what {@code SparseConv3d} runs) and with each dataflow forced; and the map building
 * ({@code minkunet-b<batch>-maps}): every map of the network on the host from a fresh coordinate set, and the
 * backend's device builder over the forward (non-transposed) maps.
 *
 * <p>FLOPs are useful ones, 2·pairs·in·out per layer, for both dataflows and for PyTorch: the implicit GEMM's wasted
 * tile work is what its redundancy reports, not FLOPs. Each layer reads its own random input (the values do not
 * change the work), so the end-to-end chain is the sum of the network's convolutions without BN, residual sums or
 * concatenations (host steps for now); PyTorch's baseline ({@code bench/anchors/sparse_conv_anchor.py}) times the
 * same chain on the same maps and weights, exported by {@link SparseConvExport} to {@code -Dlacuna.bench.exportDir}
 * or {@code LACUNA_SPARSE_CONV_EXPORT}. Every input fits the 50 MiB L2 or nearly (a layer's features are a few MB),
 * so no side rotates inputs: both are timed warm, alike. Without the KITTI file it returns one {@code skipped} row
 * whose {@code reason} says where it looked.
 */
public final class SparseConvBenchmark implements GpuBenchmark {
    public static final String NAME = "sparse-conv";
    public static final String GATHER = "gather-gemm-scatter";
    public static final String IMPLICIT = "implicit-gemm";
    public static final String CHOSEN = "chosen";
    /** The targets: end to end ≥ 2× PyTorch; sorted+split implicit GEMM at ≤ 1.5× redundancy. */
    public static final double TARGET_SPEEDUP_OVER_PYTORCH = 2.0;
    public static final double TARGET_MAX_REDUNDANCY = 1.5;
    /** fp16 results of the two dataflows differ in summation order only; more than this is a wrong result. */
    static final double AGREEMENT_TOLERANCE = 2e-2;

    private final Supplier<Optional<int[]>> coordinates;
    private final String source;
    private final int inChannels;
    private final int[] channels;
    private final List<Integer> batches;
    private final Path exportDir;

    /** The GPU run: the KITTI sweep, MinkUNet's widths, batches from {@code LACUNA_SPARSE_CONV_BATCHES} (1,4). */
    public SparseConvBenchmark() {
        this(() -> SparseConvNetwork.findSweep().map(p -> SparseConvNetwork.voxelise(SparseConvNetwork.readSweep(p))),
                SparseConvNetwork.findSweep().map(Path::toString).orElse("kitti (absent)"),
                SparseConvNetwork.DEFAULT_IN_CHANNELS, SparseConvNetwork.DEFAULT_CHANNELS, null,
                configuredExportDir());
    }

    /**
     * @param coordinates the stride-1 voxels [M, 4] of one cloud, or empty when there is none (a skip)
     * @param batches     null: {@link #configuredBatches}, read when the benchmark runs, so that a malformed setting
     *                    fails this benchmark rather than the service loading every benchmark goes through
     */
    SparseConvBenchmark(Supplier<Optional<int[]>> coordinates, String source, int inChannels, int[] channels,
                        List<Integer> batches, Path exportDir) {
        this.coordinates = coordinates;
        this.source = source;
        this.inChannels = inChannels;
        this.channels = channels.clone();
        this.batches = batches == null ? null : List.copyOf(batches);
        this.exportDir = exportDir;
    }

    @Override
    public String name() {
        return NAME;
    }

    public static String layerCase(int batch, String key) {
        return "minkunet-b" + batch + "-" + key;
    }

    public static String endToEndCase(int batch) {
        return "minkunet-b" + batch + "-end-to-end";
    }

    public static String mapsCase(int batch) {
        return "minkunet-b" + batch + "-maps";
    }

    static List<Integer> configuredBatches() {
        String spec = System.getProperty("lacuna.sparseConvBatches", System.getenv("LACUNA_SPARSE_CONV_BATCHES"));
        if (spec == null || spec.isBlank()) {
            return List.of(1, 4);
        }
        return Arrays.stream(spec.split(",")).map(String::strip).filter(s -> !s.isEmpty()).map(Integer::valueOf)
                .toList();
    }

    static Path configuredExportDir() {
        String dir = System.getProperty("lacuna.bench.exportDir", System.getenv("LACUNA_SPARSE_CONV_EXPORT"));
        return dir == null || dir.isBlank() ? null : Path.of(dir);
    }

    @Override
    public List<BenchResult> run(BenchContext context) throws IOException {
        Optional<int[]> voxels = coordinates.get();
        if (voxels.isEmpty()) {
            String reason = "the KITTI sweep is not at " + SparseConvNetwork.whereLooked() + " (set -Dlacuna.kitti or"
                    + " LACUNA_KITTI, or put shared/data/kitti-velodyne-000001.bin in the working tree)";
            System.out.println("sparse-conv: skipped: " + reason);
            return List.of(skipped(reason));
        }
        SparseConvExport export = exportDir == null ? null
                : new SparseConvExport(exportDir, source, inChannels, channels);
        List<BenchResult> results = new ArrayList<>();
        for (int batch : batches != null ? batches : configuredBatches()) {
            CoordinateSet stride1 = SparseConvNetwork.batched(voxels.get(), batch);
            long buildStart = System.nanoTime();
            SparseConvNetwork network = SparseConvNetwork.build(stride1, inChannels, channels);
            double firstBuildMs = (System.nanoTime() - buildStart) / 1e6;
            results.addAll(mapBuilding(context, batch, stride1, network, firstBuildMs));
            if (export != null) {
                export.add(batch, network);
            }
            results.addAll(convolutions(context, batch, network));
        }
        if (export != null) {
            System.out.println("sparse-conv: exported maps and weights to " + exportDir);
        }
        return results;
    }

    private List<BenchResult> mapBuilding(BenchContext context, int batch, CoordinateSet stride1,
                                          SparseConvNetwork network, double firstBuildMs) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("case", mapsCase(batch));
        params.put("batch", batch);
        params.put("voxels", stride1.size());
        List<KernelMap> distinct = distinctMaps(network);
        params.put("maps", distinct.size());
        params.put("firstBuildWithWeightsMs", firstBuildMs);
        // Three fresh builds, median: each takes long enough (hundreds of ms at batch 4) that the harness's schedule
        // would spend tens of seconds of device-machine time on a host-only number.
        long[] keys = stride1.keys();
        double[] ms = new double[3];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = SparseConvNetwork.buildMapsNanos(keys, inChannels, channels) / 1e6;
        }
        List<BenchResult> rows = new ArrayList<>();
        rows.add(hostRow("map-build-host", params, ms));
        List<KernelMap> forward = distinct.stream().filter(m -> !m.geometry().transposed()).toList();
        Map<String, Object> deviceParams = new LinkedHashMap<>(params);
        deviceParams.put("maps", forward.size());
        deviceParams.put("note", "forward maps only: a transposed map is its downsampling map reversed");
        ConvolutionOps ops = context.backend().ops().convolution();
        rows.add(context.measure("map-build-device").param("case", mapsCase(batch)).param("batch", batch)
                .param("maps", forward.size()).param("note", deviceParams.get("note"))
                .measureWallClock(i -> forward.forEach(m -> ops.buildMapTables(m.inputs(), m.outputs(),
                        m.geometry()))));
        return rows;
    }

    private static List<KernelMap> distinctMaps(SparseConvNetwork network) {
        Map<KernelMap, Boolean> seen = new IdentityHashMap<>();
        List<KernelMap> maps = new ArrayList<>();
        for (SparseConvNetwork.Layer layer : network.layers()) {
            if (seen.put(layer.map(), Boolean.TRUE) == null) {
                maps.add(layer.map());
            }
        }
        return maps;
    }

    /** One layer's device buffers: its own input, weights and output. */
    private record Buffers(DeviceArray x, DeviceArray w, DeviceArray y) {
        void close() {
            x.buffer().close();
            w.buffer().close();
            y.buffer().close();
        }
    }

    private List<BenchResult> convolutions(BenchContext context, int batch, SparseConvNetwork network) {
        Backend backend = context.backend();
        ConvolutionOps ops = backend.ops().convolution();
        List<SparseConvNetwork.Layer> layers = network.layers();
        List<Buffers> buffers = new ArrayList<>();
        List<BenchResult> results = new ArrayList<>();
        try {
            for (int l = 0; l < layers.size(); l++) {
                buffers.add(upload(backend, layers.get(l), batch * 1000L + l));
            }
            Dataflow[] chosen = new Dataflow[layers.size()];
            long bytes = 0;
            double weightedSplit = 0;
            for (int l = 0; l < layers.size(); l++) {
                SparseConvNetwork.Layer layer = layers.get(l);
                Buffers b = buffers.get(l);
                MapStatistics stats = layer.map().statistics();
                chosen[l] = Dataflow.choose(stats);
                double split = stats.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, TileOrder.SORTED_SPLIT);
                weightedSplit += split * layer.usefulFlops();
                long layerBytes = b.x().byteSize() + b.w().byteSize() + b.y().byteSize();
                bytes += layerBytes;
                String difference = agreement(backend, ops, layer, b);
                BenchResult gather = null;
                for (Dataflow dataflow : List.of(Dataflow.GATHER_GEMM_SCATTER, Dataflow.IMPLICIT_GEMM)) {
                    BenchContext.Case c = context.measure(dataflow == Dataflow.GATHER_GEMM_SCATTER ? GATHER : IMPLICIT)
                            .work(Work.of(layer.usefulFlops(), layerBytes));
                    layerParams(batch, layer, stats, chosen[l], difference).forEach(c::param);
                    BenchResult r = c.param("dataflow", dataflow.name()).measure(i -> ops.sparseConvolution(b.x(),
                            layer.map(), b.w(), null, Activation.NONE, dataflow, b.y()));
                    if (gather == null) {
                        gather = r;
                    } else {
                        r = r.withAnchor(gather);
                    }
                    results.add(r);
                }
                System.out.printf(Locale.ROOT, "sparse-conv: %-32s %8d pairs  redundancy %.2f/%.2f/%.2f  %s%n",
                        layerCase(batch, layer.key()), layer.pairs(),
                        stats.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, TileOrder.UNSORTED),
                        stats.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, TileOrder.SORTED), split,
                        chosen[l]);
            }
            long flops = network.usefulFlops();
            double redundancy = flops == 0 ? 1 : weightedSplit / flops;
            BenchResult gatherChain = null;
            for (String name : List.of(GATHER, IMPLICIT, CHOSEN)) {
                Dataflow forced = switch (name) {
                    case GATHER -> Dataflow.GATHER_GEMM_SCATTER;
                    case IMPLICIT -> Dataflow.IMPLICIT_GEMM;
                    default -> null;
                };
                BenchResult r = context.measure(name).param("case", endToEndCase(batch)).param("batch", batch)
                        .param("layers", layers.size()).param("voxels", layers.getFirst().map().inputCount())
                        .param("pairs", layers.stream().mapToLong(SparseConvNetwork.Layer::pairs).sum())
                        .param("dtype", "f16")
                        .param("implicitLayers", forced == null ? Arrays.stream(chosen)
                                .filter(d -> d == Dataflow.IMPLICIT_GEMM).count() : forced == Dataflow.IMPLICIT_GEMM
                                ? layers.size() : 0)
                        .param("redundancySortedSplitFlopWeighted", redundancy)
                        .param("targetMaxRedundancy", TARGET_MAX_REDUNDANCY)
                        .param("targetSpeedupOverPytorch", TARGET_SPEEDUP_OVER_PYTORCH)
                        .work(Work.of(flops, bytes))
                        .measure(i -> {
                            for (int l = 0; l < layers.size(); l++) {
                                Buffers b = buffers.get(l);
                                ops.sparseConvolution(b.x(), layers.get(l).map(), b.w(), null, Activation.NONE,
                                        forced == null ? chosen[l] : forced, b.y());
                            }
                        });
                if (gatherChain == null) {
                    gatherChain = r;
                } else {
                    r = r.withAnchor(gatherChain);
                }
                results.add(r);
            }
            return results;
        } finally {
            backend.synchronize();
            buffers.forEach(Buffers::close);
        }
    }

    private static Map<String, Object> layerParams(int batch, SparseConvNetwork.Layer layer, MapStatistics stats,
                                                   Dataflow chosen, String difference) {
        Map<String, Object> p = new LinkedHashMap<>();
        KernelMap map = layer.map();
        p.put("case", layerCase(batch, layer.key()));
        p.put("batch", batch);
        p.put("layer", layer.key());
        p.put("geometry", layer.geometry().toString());
        p.put("in", layer.in());
        p.put("out", layer.out());
        p.put("dtype", "f16");
        p.put("inputRows", map.inputCount());
        p.put("outputRows", map.outputCount());
        p.put("pairs", map.totalPairs());
        p.put("redundancyUnsorted", stats.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, TileOrder.UNSORTED));
        p.put("redundancySorted", stats.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, TileOrder.SORTED));
        p.put("redundancySortedSplit", stats.redundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS,
                TileOrder.SORTED_SPLIT));
        p.put("chosenDataflow", chosen.name());
        p.put("dataflowsAgree", difference);
        return p;
    }

    /** Random fp16 input and the layer's weights, seeded; the output left for the convolution to write. */
    private static Buffers upload(Backend backend, SparseConvNetwork.Layer layer, long seed) {
        KernelMap map = layer.map();
        float[] x = new float[Math.multiplyExact(map.inputCount(), layer.in())];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        DeviceArray xs = HostData.upload(backend, DType.F16, Shape.of(map.inputCount(), layer.in()), x);
        DeviceArray ws = HostData.upload(backend, DType.F16, Shape.of(map.volume(), layer.in(), layer.out()),
                layer.weights());
        DeviceArray ys = HostData.upload(backend, DType.F16, Shape.of(map.outputCount(), layer.out()),
                new float[Math.multiplyExact(map.outputCount(), layer.out())]);
        return new Buffers(xs, ws, ys);
    }

    /**
     * Both dataflows once, compared: "ok" or the relative difference. A timing of a wrong result is worthless, and the
     * two GPU paths share no code past the map, so agreement is a real check (on the CPU both are the reference).
     */
    private static String agreement(Backend backend, ConvolutionOps ops, SparseConvNetwork.Layer layer, Buffers b) {
        ops.sparseConvolution(b.x(), layer.map(), b.w(), null, Activation.NONE, Dataflow.GATHER_GEMM_SCATTER, b.y());
        float[] gather = HostData.downloadFloats(backend, b.y());
        ops.sparseConvolution(b.x(), layer.map(), b.w(), null, Activation.NONE, Dataflow.IMPLICIT_GEMM, b.y());
        float[] implicit = HostData.downloadFloats(backend, b.y());
        double worst = 0;
        double scale = 1e-30;
        for (int i = 0; i < gather.length; i++) {
            worst = Math.max(worst, Math.abs(gather[i] - implicit[i]));
            scale = Math.max(scale, Math.abs(gather[i]));
        }
        double relative = worst / scale;
        return Double.isFinite(relative) && relative <= AGREEMENT_TOLERANCE ? "ok"
                : String.format(Locale.ROOT, "max difference %.3g of the largest value", relative);
    }

    private static BenchResult hostRow(String name, Map<String, Object> params, double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        double median = s[s.length / 2];
        double mean = Arrays.stream(s).average().orElse(median);
        return new BenchResult(name, new LinkedHashMap<>(params), "host-wall-clock", s.length, 1, s.length, 0,
                median, s[0], s[0], s[s.length - 1], s[s.length - 1], mean, 0, 0, 0, 0, null, null, null, null, null);
    }

    static BenchResult skipped(String reason) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("case", "minkunet-kitti");
        params.put("skipped", reason);
        return new BenchResult("skipped", params, "none", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null, null,
                null, null);
    }
}
