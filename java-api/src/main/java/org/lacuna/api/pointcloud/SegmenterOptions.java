package org.lacuna.api.pointcloud;

import java.nio.file.Path;
import java.util.Optional;
import org.lacuna.api.models.MinkUNet;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;

/**
 * How a {@link Segmenter} voxelises a scan and which MinkUNet it runs.
 *
 * <p>{@link #defaults()}: 5 cm cubic voxels averaging their points; features x, y, z and the scan's channels
 * (KITTI's reflectance: 4 inputs); SemanticKITTI's network (19 classes, TorchSparse's widths, F32) with seeded
 * random weights (seed 0), which give labels of no meaning but exercise every kernel exactly as trained weights do.
 * With {@link #withWeights(Path) weights}, the network's input width and class count are read from the file's
 * {@code stem.0.kernel} and {@code classifier.0.weight}; its widths must be the config's.
 *
 * @param voxelSize   edge of a cubic voxel in the scan's units (metres for KITTI), finite and positive
 * @param weights     a safetensors file in Lacuna's naming (see {@link MinkUNet}), or empty for random weights
 * @param seed        the random weights' seed (ignored when weights are given)
 * @param kernelOrder the order of the kernel offsets in the weights file
 * @param network     the network's shape and dtype
 * @param features    which per-voxel values feed the network
 * @param reduction   how the points of one voxel combine
 * @param layerTimes  whether to time each step (synchronises the device between steps)
 */
public record SegmenterOptions(double voxelSize, Optional<Path> weights, long seed,
                               ModelWeights.KernelOrder kernelOrder, MinkUNet.Config network,
                               VoxelFeatures features, VoxelReduction reduction, boolean layerTimes) {
    /** KITTI velodyne sweeps are usually segmented at 5 cm (SPVNAS, MinkUNet's SemanticKITTI setting). */
    public static final double DEFAULT_VOXEL_SIZE = 0.05;

    public SegmenterOptions {
        String call = "SegmenterOptions";
        if (!(voxelSize > 0) || Double.isInfinite(voxelSize)) {
            throw InvalidInputException.argument(call, "the voxel size must be a positive finite number, not "
                    + voxelSize);
        }
        if (weights == null || kernelOrder == null || network == null || features == null || reduction == null) {
            throw InvalidInputException.argument(call, "weights (Optional), kernelOrder, network, features and"
                    + " reduction are required");
        }
    }

    /** 5 cm voxels, x y z + channels, SemanticKITTI's MinkUNet on 4 inputs, random weights from seed 0, timed. */
    public static SegmenterOptions defaults() {
        return new SegmenterOptions(DEFAULT_VOXEL_SIZE, Optional.empty(), 0, ModelWeights.KernelOrder.LACUNA,
                MinkUNet.Config.semanticKitti(4), VoxelFeatures.POSITIONS_AND_CHANNELS, VoxelReduction.MEAN, true);
    }

    public SegmenterOptions withVoxelSize(double size) {
        return new SegmenterOptions(size, weights, seed, kernelOrder, network, features, reduction, layerTimes);
    }

    /** Trained weights from a safetensors file (Lacuna's naming; {@code bench/anchors/export_state_dict.py} converts). */
    public SegmenterOptions withWeights(Path safetensors) {
        if (safetensors == null) {
            throw InvalidInputException.argument("SegmenterOptions.withWeights", "the weights path is null");
        }
        return new SegmenterOptions(voxelSize, Optional.of(safetensors), seed, kernelOrder, network, features,
                reduction, layerTimes);
    }

    /** Seeded random weights (He-normal convolutions, fresh batch norms): the same seed gives the same network. */
    public SegmenterOptions withRandomWeights(long randomSeed) {
        return new SegmenterOptions(voxelSize, Optional.empty(), randomSeed, kernelOrder, network, features,
                reduction, layerTimes);
    }

    public SegmenterOptions withKernelOrder(ModelWeights.KernelOrder order) {
        return new SegmenterOptions(voxelSize, weights, seed, order, network, features, reduction, layerTimes);
    }

    public SegmenterOptions withNetwork(MinkUNet.Config config) {
        return new SegmenterOptions(voxelSize, weights, seed, kernelOrder, config, features, reduction, layerTimes);
    }

    /** The network's class count (random weights; a weights file says its own). */
    public SegmenterOptions withClasses(int classes) {
        return withNetwork(network.withNumClasses(classes));
    }

    /** The network's input width (random weights; a weights file says its own). */
    public SegmenterOptions withInputChannels(int channels) {
        return withNetwork(new MinkUNet.Config(channels, network.numClasses(), network.channels(), network.dtype()));
    }

    public SegmenterOptions withFeatures(VoxelFeatures voxelFeatures) {
        return new SegmenterOptions(voxelSize, weights, seed, kernelOrder, network, voxelFeatures, reduction,
                layerTimes);
    }

    public SegmenterOptions withReduction(VoxelReduction voxelReduction) {
        return new SegmenterOptions(voxelSize, weights, seed, kernelOrder, network, features, voxelReduction,
                layerTimes);
    }

    public SegmenterOptions withLayerTimes(boolean timed) {
        return new SegmenterOptions(voxelSize, weights, seed, kernelOrder, network, features, reduction, timed);
    }
}
