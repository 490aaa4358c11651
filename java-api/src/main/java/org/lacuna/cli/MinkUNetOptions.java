package org.lacuna.cli;

import java.nio.file.Path;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.api.pointcloud.SegmenterOptions;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The MinkUNet a command builds for a scan (a picocli mixin of {@code segment} and {@code plan}): its weights or the
 * seed of random ones, class count, width scale, the weights' kernel-offset order and the voxel size, so both commands
 * build the same network from the same words ({@code plan --scan} plans what {@code segment} runs).
 */
final class MinkUNetOptions {
    enum KernelOrderChoice { lacuna, torchsparse1 }

    @Option(names = {"-w", "--weights"}, paramLabel = "FILE", description = "MinkUNet weights (safetensors, Lacuna's"
            + " names; bench/anchors/export_state_dict.py converts TorchSparse checkpoints). Its shapes set the input"
            + " width and class count. Default: seeded random weights (a plan depends on shapes and maps, not on "
            + "the weights' values).")
    Path weights;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random weights. Default ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--classes", defaultValue = "19", description = "Classes of the random network (SemanticKITTI's "
            + "19 by default; a weights file says its own).")
    int classes;

    @Option(names = "--channel-ratio", defaultValue = "1", paramLabel = "R", description = "Scale MinkUNet's widths "
            + "(TorchSparse's cr: 0.5 for the half-width SemanticKITTI models). Default ${DEFAULT-VALUE}.")
    double channelRatio;

    @Option(names = "--kernel-order", defaultValue = "lacuna", description = "Order of the kernel offsets in the "
            + "weights file: lacuna or torchsparse1 (TorchSparse 1.x checkpoints). Default ${DEFAULT-VALUE}.")
    KernelOrderChoice kernelOrder;

    /** {@code --voxel} is how {@code plan} spelled it before the two commands shared these options. */
    @Option(names = {"--voxel-size", "--voxel"}, defaultValue = "0.05", paramLabel = "METRES", description = "Edge of "
            + "a cubic voxel in the scan's units. Default ${DEFAULT-VALUE}.")
    double voxelSize;

    /**
     * The segmenter's options for a cloud of {@code cloudChannels} channels besides x, y, z (each point's position and
     * channels feed the network). The commands {@link #validate} first, before the scan is read.
     */
    SegmenterOptions segmenterOptions(int cloudChannels) {
        SegmenterOptions defaults = SegmenterOptions.defaults();
        SegmenterOptions options = defaults.withNetwork(defaults.network().scaled(channelRatio))
                .withVoxelSize(voxelSize)
                .withKernelOrder(kernelOrder == KernelOrderChoice.lacuna ? ModelWeights.KernelOrder.LACUNA
                        : ModelWeights.KernelOrder.TORCHSPARSE_V1)
                .withInputChannels(3 + cloudChannels).withClasses(classes);
        return weights == null ? options.withRandomWeights(seed) : options.withWeights(weights);
    }

    /**
     * Checks the options' ranges before anything is read, as a usage error naming the option.
     *
     * @throws CommandLine.ParameterException naming the option out of range
     */
    void validate(CommandLine.Model.CommandSpec spec) {
        if (!(voxelSize > 0) || Double.isInfinite(voxelSize)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--voxel-size must be a positive number of "
                    + "metres, not " + voxelSize);
        }
        if (classes < 1 || classes > 65_535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--classes must be in [1, 65535], not "
                    + classes);
        }
        if (!(channelRatio > 0) || channelRatio > 16) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--channel-ratio must be in (0, 16], not "
                    + channelRatio);
        }
    }
}
