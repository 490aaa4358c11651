package org.lacuna.api.pointcloud;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lacuna.api.Session;
import org.lacuna.api.io.Safetensors;
import org.lacuna.api.models.LayerTime;
import org.lacuna.api.models.MinkUNet;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.lifetime.ClosedFlag;
import org.lacuna.runtime.pointcloud.CoordinateKey;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.sparseconv.CoordinateSet;

/**
 * Semantic segmentation of point clouds with MinkUNet: voxelise on the session's backend, run the network there,
 * take each voxel's highest-scoring class and hand it to the voxel's points.
 *
 * <pre>{@code
 * try (Session session = Lacuna.open();
 *      Segmenter segmenter = Segmenter.open(session, SegmenterOptions.defaults().withWeights(weights))) {
 *     Segmentation result = segmenter.segment(PointClouds.read(scan));
 * }
 * }</pre>
 *
 * <p>Thread safety: {@link #segment} may be called from several threads at once. Calls share one network and one
 * session, so their device work (voxelisation, upload, forward pass, download) runs one call at a time, in the
 * order the calls take the lock; the host work around it (checks, per-point labels) overlaps. One segmenter per
 * JVM (per Spark executor) is the intended use. {@link #close()} waits for a call in flight to finish.
 *
 * <p>The session stays the caller's: closing the segmenter frees the network's weights, not the session.
 */
public final class Segmenter implements AutoCloseable {
    private final Session session;
    private final SegmenterOptions options;
    private final MinkUNet network;
    private final String weightsSource;
    private final List<String> unusedWeights;
    private final Voxelization voxelization;
    /** Serialises device work: the network's layers and the session's stream are shared by every caller. */
    private final Object deviceLock = new Object();
    private final ClosedFlag closed = new ClosedFlag();

    private Segmenter(Session session, SegmenterOptions options, MinkUNet network, String weightsSource,
                      List<String> unusedWeights) {
        this.session = session;
        this.options = options;
        this.network = network;
        this.weightsSource = weightsSource;
        this.unusedWeights = List.copyOf(unusedWeights);
        this.voxelization = Voxelization.cubic(options.voxelSize(), options.reduction());
    }

    /**
     * Builds the network on {@code session}: weights from the options' file or seeded at random.
     *
     * @throws org.lacuna.runtime.error.MalformedInputException if the weights file is missing or malformed (naming it)
     * @throws InvalidInputException                      if a tensor is missing or of the wrong shape (naming it)
     */
    public static Segmenter open(Session session, SegmenterOptions options) {
        String call = "Segmenter.open";
        if (session == null || options == null) {
            throw InvalidInputException.argument(call, "a session and options are required");
        }
        if (session.isClosed()) {
            throw new ResourceClosedException(call, "session");
        }
        MinkUNet.Config config = options.network();
        ModelWeights weights;
        String source;
        if (options.weights().isPresent()) {
            Path path = options.weights().get();
            Map<String, Safetensors.Entry> tensors = Safetensors.read(path);
            config = shapedBy(tensors, config);
            weights = ModelWeights.of(tensors, path.toString()).withKernelOrder(options.kernelOrder());
            source = path.toString();
        } else {
            weights = ModelWeights.random(options.seed());
            source = "random (seed " + options.seed() + ")";
        }
        MinkUNet network = MinkUNet.create(session, config, weights);
        return new Segmenter(session, options, network, source, weights.unused());
    }

    /** The input width and class count a weights file holds, where it holds the tensors that say them. */
    private static MinkUNet.Config shapedBy(Map<String, Safetensors.Entry> tensors, MinkUNet.Config config) {
        Safetensors.Entry stem = tensors.get("stem.0.kernel");
        Safetensors.Entry classifier = tensors.get("classifier.0.weight");
        int in = stem != null && stem.shape().length == 3 ? Math.toIntExact(stem.shape()[1]) : config.inChannels();
        int classes = classifier != null && classifier.shape().length == 2
                ? Math.toIntExact(classifier.shape()[0]) : config.numClasses();
        if (in < 1 || classes < 1) {
            return config; // the network's own shape check names the tensor
        }
        return new MinkUNet.Config(in, classes, config.channels(), config.dtype());
    }

    /**
     * Labels every point of {@code cloud} (batch index 0 for all; points with a non-finite coordinate get
     * {@link Segmentation#NO_LABEL}).
     *
     * @throws InvalidInputException if the cloud is empty, has no finite point, or gives the network a different
     *                               number of input features than it takes
     */
    public Segmentation segment(PointCloud cloud) {
        if (cloud == null) {
            throw InvalidInputException.argument("Segmenter.segment", "the point cloud is null");
        }
        return segmentAll(List.of(cloud)).getFirst();
    }

    /**
     * Labels several clouds in one forward pass: they are voxelised as one batch (cloud i as batch index i), so the
     * device sees one batch, not one scan at a time. Each result holds its own cloud's labels, histogram and voxel
     * count; the times are the whole batch's. Convolutions never mix batch indices, so each cloud's labels are those
     * {@link #segment(PointCloud)} gives it alone (a test checks this).
     *
     * @throws InvalidInputException naming the cloud (by its index) that is null, empty, without a finite point, or
     *                               of the wrong feature width
     */
    public List<Segmentation> segmentAll(List<PointCloud> clouds) {
        String call = "Segmenter.segment";
        if (clouds == null || clouds.isEmpty()) {
            throw InvalidInputException.argument(call, "no point clouds");
        }
        List<PointCloud> finites = new ArrayList<>(clouds.size());
        // Each cloud's finite points, found once: the labels map back through these indices.
        List<int[]> finiteIndices = new ArrayList<>(clouds.size());
        for (int i = 0; i < clouds.size(); i++) {
            PointCloud cloud = clouds.get(i);
            String which = clouds.size() == 1 ? "" : "cloud " + i + ": ";
            if (cloud == null) {
                throw InvalidInputException.argument(call, which + "the point cloud is null");
            }
            int[] finite = cloud.finiteIndices();
            finiteIndices.add(finite);
            finites.add(checked(cloud, cloud.points(finite), call, which));
        }
        PointCloud batch = finites.size() == 1 ? finites.getFirst() : PointCloud.batchOf(finites);
        float[] logits;
        CoordinateSet inputs;
        CoordinateSet rows;
        List<LayerTime> layers = options.layerTimes() ? new ArrayList<>() : null;
        long start;
        long voxelized;
        long ran;
        synchronized (deviceLock) {
            if (closed.isClosed()) {
                throw new ResourceClosedException(call, "segmenter");
            }
            start = System.nanoTime();
            // The voxels stay where the backend made them: the points go up, the logits come down.
            try (SparseTensor input = SparseTensor.voxelize(session, batch, voxelization, options.features(),
                    network.config().dtype())) {
                inputs = input.coordinateSet();
                session.synchronize();
                voxelized = System.nanoTime();
                try (SparseTensor output = network.forward(input, layers)) {
                    ran = System.nanoTime();
                    logits = output.features().toFloatArray();
                    rows = output.coordinateSet();
                }
            }
        }
        int[] batchLabels = labelPoints(batch, voxelization, rows, logits, network.config().numClasses());
        int[] voxelCounts = new int[clouds.size()];
        for (int v = 0; v < inputs.size(); v++) {
            voxelCounts[clouds.size() == 1 ? 0 : CoordinateKey.batch(inputs.key(v))]++;
        }
        long done = System.nanoTime();
        List<Segmentation> results = new ArrayList<>(clouds.size());
        int next = 0;
        for (int i = 0; i < clouds.size(); i++) {
            int[] labels = new int[clouds.get(i).size()];
            java.util.Arrays.fill(labels, Segmentation.NO_LABEL);
            long[] counts = new long[network.config().numClasses()];
            for (int point : finiteIndices.get(i)) {
                int label = batchLabels[next++];
                labels[point] = label;
                if (label >= 0) {
                    counts[label]++;
                }
            }
            results.add(new Segmentation(labels, counts, voxelCounts[i], session.backendName(),
                    session.device().name(), weightsSource, layers == null ? List.of() : layers,
                    (voxelized - start) / 1e6, (ran - voxelized) / 1e6, (done - ran) / 1e6));
        }
        return results;
    }

    /** The cloud's points with finite coordinates ({@code finite}), checked for the network. */
    private PointCloud checked(PointCloud cloud, PointCloud finite, String call, String which) {
        if (cloud.isEmpty()) {
            throw InvalidInputException.shape(call, which + "the point cloud has no points");
        }
        if (finite.isEmpty()) {
            throw InvalidInputException.argument(call, which + "none of the cloud's " + cloud.size() + " points has"
                    + " finite coordinates");
        }
        int width = featureWidth(finite);
        if (width != network.config().inChannels()) {
            throw InvalidInputException.shape(call, which + "the network takes " + network.config().inChannels()
                    + " input features per voxel, but " + options.features() + " of this cloud (channels "
                    + cloud.channelNames() + ") gives " + width + "; build the segmenter with"
                    + " withInputChannels(" + width + ") or other features");
        }
        return finite;
    }

    private int featureWidth(PointCloud cloud) {
        return switch (options.features()) {
            case CHANNELS -> cloud.channelCount();
            case POSITIONS -> 3;
            case POSITIONS_AND_CHANNELS -> 3 + cloud.channelCount();
            case OCCUPANCY -> 1;
        };
    }

    /**
     * Each point's label: the arg-max class of the output row at its voxel, which the host finds from the point
     * itself ({@link Voxelization#key}, as every voxeliser computes it) in the output's coordinate set, so no
     * point-to-voxel table has to come back from the device.
     */
    private static int[] labelPoints(PointCloud voxelised, Voxelization voxelization, CoordinateSet rows,
                                     float[] logits, int classes) {
        int[] rowLabel = new int[rows.size()];
        for (int row = 0; row < rowLabel.length; row++) {
            int best = 0;
            float bestScore = logits[row * classes];
            for (int c = 1; c < classes; c++) {
                float score = logits[row * classes + c];
                if (score > bestScore) {
                    best = c;
                    bestScore = score;
                }
            }
            rowLabel[row] = best;
        }
        int[] labels = new int[voxelised.size()];
        for (int p = 0; p < labels.length; p++) {
            long key = voxelization.key(voxelised.batchIndex(p), voxelised.x(p), voxelised.y(p), voxelised.z(p));
            int row = key == CoordinateKey.EMPTY ? -1 : rows.find(key);
            if (row < 0) {
                throw new LacunaException(ErrorCode.INVALID_ARGUMENT, "Segmenter.segment", "the network's output"
                        + " lacks the voxel of input point " + p + " (" + CoordinateKey.describe(key) + "): MinkUNet"
                        + " must keep the input coordinates");
            }
            labels[p] = rowLabel[row];
        }
        return labels;
    }

    /** The network as built (a weights file decides its input width and class count). */
    public MinkUNet.Config network() {
        return network.config();
    }

    public SegmenterOptions options() {
        return options;
    }

    /** {@code random (seed N)} or the weights file. */
    public String weightsSource() {
        return weightsSource;
    }

    /** Tensors of the weights file no layer asked for: non-empty usually means a naming mismatch. */
    public List<String> unusedWeights() {
        return unusedWeights;
    }

    /** Frees the network. Idempotent; waits for a {@link #segment} in flight. */
    @Override
    public void close() {
        synchronized (deviceLock) {
            if (!closed.markClosed()) {
                return;
            }
            network.close();
        }
    }
}
