package org.lacuna.api.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.ConvGeometry;

/**
 * MinkUNet's layers described once, in forward order, with their TorchSparse parameter keys: {@link MinkUNet} builds
 * its layers from this list, {@link ResidualBlock} its convolutions, and the sparse-convolution benchmark walks the
 * same list for the convolutions it times.
 */
public final class MinkUNetTopology {
    private static final int[] DEFAULT_CHANNELS = {32, 32, 64, 128, 256, 256, 128, 96, 96};

    private MinkUNetTopology() {
    }

    /** What a layer is in the network. */
    public enum Role {
        /** One of the two 3×3×3 submanifold convolutions at stride 1. */
        STEM,
        /** An encoder stage's 2×2×2 stride-2 convolution. */
        DOWN,
        /** A residual block after an encoder stage's downsampling. */
        ENCODER_BLOCK,
        /** A decoder stage's 2×2×2 stride-2 transposed convolution. */
        UP,
        /** A residual block after a decoder stage's concatenation with the skip. */
        DECODER_BLOCK
    }

    /**
     * One layer: a convolution with batch norm and ReLU ({@link ConvBn}), or a {@link ResidualBlock}.
     *
     * @param stage    0 for the stem, 1..4 for the encoder and decoder stages
     * @param key      the convolution's parameter prefix (without {@code .kernel}), or the block's prefix
     * @param normKey  the batch norm's prefix, or null for a block
     * @param geometry the convolution's, or null for a block
     * @param level    the coordinates it reads: level i is tensor stride 2^i
     */
    public record Layer(Role role, int stage, String key, String normKey, ConvGeometry geometry, int in, int out,
                        int level) {
        public boolean residual() {
            return role == Role.ENCODER_BLOCK || role == Role.DECODER_BLOCK;
        }

        /** The coordinates it writes: one level coarser after DOWN, one finer after UP. */
        public int outputLevel() {
            return switch (role) {
                case DOWN -> level + 1;
                case UP -> level - 1;
                default -> level;
            };
        }
    }

    /**
     * One convolution of a residual block, batch norm folded in.
     *
     * @param relu whether a ReLU follows it inside the block (the block's final ReLU comes after the sum)
     */
    public record Conv(String key, String normKey, ConvGeometry geometry, int in, int out, boolean relu) {
    }

    /** TorchSparse's MinkUNet widths cs[0..8]: 32, 32, 64, 128, 256, 256, 128, 96, 96. */
    public static int[] defaultChannels() {
        return DEFAULT_CHANNELS.clone();
    }

    /**
     * Every layer in forward order: the stem; per encoder stage i the downsampling to level i and two blocks; per
     * decoder stage i the upsampling from level 5-i to 4-i and two blocks, the first taking the concatenation
     * {@code [upsampled | skip]} of cs[4+i] + cs[4-i] channels. The classifier is not part of it.
     *
     * @param cs the nine widths cs[0..8]
     */
    public static List<Layer> layers(int inChannels, int[] cs) {
        if (cs == null || cs.length != 9) {
            throw InvalidInputException.argument("MinkUNetTopology.layers", "nine widths (stem, 4 encoder, 4 decoder)"
                    + " are needed, got " + Arrays.toString(cs));
        }
        ConvGeometry k3 = ConvGeometry.submanifold(3);
        List<Layer> layers = new ArrayList<>();
        layers.add(new Layer(Role.STEM, 0, "stem.0", "stem.1", k3, inChannels, cs[0], 0));
        layers.add(new Layer(Role.STEM, 0, "stem.3", "stem.4", k3, cs[0], cs[0], 0));
        for (int i = 1; i <= 4; i++) {
            String p = "stage" + i;
            layers.add(new Layer(Role.DOWN, i, p + ".0.net.0", p + ".0.net.1", ConvGeometry.strided(2, 2), cs[i - 1],
                    cs[i - 1], i - 1));
            layers.add(new Layer(Role.ENCODER_BLOCK, i, p + ".1", null, null, cs[i - 1], cs[i], i));
            layers.add(new Layer(Role.ENCODER_BLOCK, i, p + ".2", null, null, cs[i], cs[i], i));
        }
        for (int i = 1; i <= 4; i++) {
            String p = "up" + i;
            int to = cs[4 + i];
            layers.add(new Layer(Role.UP, i, p + ".0.net.0", p + ".0.net.1", ConvGeometry.transposed(2, 2), cs[3 + i],
                    to, 5 - i));
            layers.add(new Layer(Role.DECODER_BLOCK, i, p + ".1.0", null, null, to + cs[4 - i], to, 4 - i));
            layers.add(new Layer(Role.DECODER_BLOCK, i, p + ".1.1", null, null, to, to, 4 - i));
        }
        return List.copyOf(layers);
    }

    /**
     * A residual block's convolutions under {@code prefix}: 3×3×3 + BN + ReLU, 3×3×3 + BN, and where the width
     * changes the 1×1×1 + BN projection of the shortcut.
     */
    public static List<Conv> residualConvolutions(String prefix, int in, int out) {
        ConvGeometry k3 = ConvGeometry.submanifold(3);
        List<Conv> convs = new ArrayList<>(List.of(
                new Conv(prefix + ".net.0", prefix + ".net.1", k3, in, out, true),
                new Conv(prefix + ".net.3", prefix + ".net.4", k3, out, out, false)));
        if (in != out) {
            convs.add(new Conv(prefix + ".downsample.0", prefix + ".downsample.1", ConvGeometry.submanifold(1), in,
                    out, false));
        }
        return List.copyOf(convs);
    }
}
