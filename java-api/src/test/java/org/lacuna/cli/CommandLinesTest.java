package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.lacuna.api.models.MinkUNetTopology;
import org.lacuna.api.models.ModelWeights;
import org.lacuna.api.pointcloud.SegmenterOptions;
import org.lacuna.runtime.pointcloud.VoxelFeatures;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.data.DType;
import picocli.CommandLine;

/**
 * {@code lacuna}'s commands' lines: every option's names, default and arity, in help order, whether declared in the
 * command or in a mixin it shares ({@code BackendOption}, {@code EncoderModelOption}, {@code MinkUNetOptions},
 * {@code SparsityOptions}), so
 * that an option lost, renamed or given another default in a clean-up fails here.
 */
class CommandLinesTest {
    private static List<String> options(String command) {
        return LacunaCli.commandLine().getSubcommands().get(command).getCommandSpec().options().stream()
                .filter(o -> !o.usageHelp() && !o.versionHelp())
                .map(o -> String.join(" ", o.names()) + " = " + o.defaultValueString() + " (" + o.arity() + ")")
                .toList();
    }

    @Test
    void everyCommandKeepsItsOptions() {
        assertEquals(List.of("--json = false (0)", "-v --verbose = false (0)"), options("info"));
        assertEquals(List.of("--rows = 2048 (1)", "--cols = 1023 (1)", "--seed = null (1)", "--scan = null (1)"),
                options("selftest"));
        assertEquals(List.of("-f --file = null (1)", "-m --model = null (1)", "--tokenizer = null (1)",
                "--format = jsonl (1)", "-o --output = null (1)", "--backend = auto (1)", "--max-length = 0 (1)",
                "--batch-size = 32 (1)", "--pooling = null (1)", "--no-normalize = false (0)", "--prune = null (1)",
                "--keep = null (1)", "--from-layer = null (1)", "--score = cls (1)", "--no-compare = false (0)",
                "--repeat = 3 (1)"), options("embed"));
        assertEquals(List.of("-w --weights = null (1)", "--seed = 0 (1)", "--classes = 19 (1)",
                "--channel-ratio = 1 (1)", "--kernel-order = lacuna (1)", "--voxel-size --voxel = 0.05 (1)",
                "--backend = auto (1)", "-o --output-dir = segment-output (1)", "--labels = npy (1)",
                "--no-ply = false (0)", "-q --quiet = false (0)"), options("segment"));
        assertEquals(List.of("--scan = null (1)", "-w --weights = null (1)", "--seed = 0 (1)",
                "--classes = 19 (1)", "--channel-ratio = 1 (1)", "--kernel-order = lacuna (1)",
                "--voxel-size --voxel = 0.05 (1)", "-m --model = null (1)", "--policy = null (1)",
                "--json = false (0)", "--trace = null (1)", "--backend = auto (1)"), options("plan"));
    }

    /**
     * Each command's line gives the network its words say, checked against those words (not against the other
     * command, which builds it through the same mixin): the widths are the default ones halved (all even, so exact).
     */
    @Test
    void segmentAndPlanBuildTheMinkUNetTheirWordsSay() {
        int[] defaultWidths = MinkUNetTopology.defaultChannels();
        int[] halfWidths = Arrays.stream(defaultWidths).map(c -> c / 2).toArray();
        for (Supplier<Object> command : List.<Supplier<Object>>of(SegmentCommand::new, PlanCommand::new)) {
            SegmenterOptions trained = built(command.get(), "-w", "net.safetensors", "--classes", "5", "--channel-ratio",
                    "0.5", "--kernel-order", "torchsparse1", "--voxel", "0.1");
            String what = command.get().getClass().getSimpleName();
            assertEquals(0.1, trained.voxelSize(), what);
            assertEquals(Optional.of(Path.of("net.safetensors")), trained.weights(), what);
            assertEquals(ModelWeights.KernelOrder.TORCHSPARSE_V1, trained.kernelOrder(), what);
            assertEquals(4, trained.network().inChannels(), what + ": x, y, z and the cloud's one channel");
            assertEquals(5, trained.network().numClasses(), what);
            assertEquals(DType.F32, trained.network().dtype(), what);
            assertArrayEquals(halfWidths, trained.network().channels(), what);
            assertEquals(VoxelFeatures.POSITIONS_AND_CHANNELS, trained.features(), what);
            assertEquals(VoxelReduction.MEAN, trained.reduction(), what);

            SegmenterOptions seeded = built(command.get(), "--seed", "7");
            assertEquals(Optional.empty(), seeded.weights(), what);
            assertEquals(7, seeded.seed(), what);
            assertEquals(0.05, seeded.voxelSize(), what);
            assertEquals(ModelWeights.KernelOrder.LACUNA, seeded.kernelOrder(), what);
            assertEquals(19, seeded.network().numClasses(), what + ": SemanticKITTI's classes");
            assertArrayEquals(defaultWidths, seeded.network().channels(), what);
        }
    }

    /** The segmenter options {@code command}'s MinkUNet mixin makes of {@code args}, for a cloud of one channel. */
    private static SegmenterOptions built(Object command, String... args) {
        CommandLine line = new CommandLine(command);
        List<String> given = new ArrayList<>(List.of(args));
        if (command instanceof SegmentCommand) {
            given.add("scan.bin");
        }
        line.parseArgs(given.toArray(String[]::new));
        return ((MinkUNetOptions) line.getCommandSpec().mixins().get("network").userObject()).segmenterOptions(1);
    }

    @Test
    void embedAndPlanReadTheirModelFromTheSharedOption() {
        for (Object command : List.of(new EmbedCommand(), new PlanCommand())) {
            CommandLine line = new CommandLine(command);
            line.parseArgs("-m", "encoder.onnx");
            EncoderModelOption model = (EncoderModelOption) line.getCommandSpec().mixins().get("model").userObject();
            assertEquals(Path.of("encoder.onnx"), model.path);
            assertFalse(model.bundled());
            assertNull(model.unavailableReason(), "a given model is tried, whatever is bundled");
            line.parseArgs("--model", "other.onnx");
            assertEquals(Path.of("other.onnx"), model.path);
            line.parseArgs();
            assertTrue(model.bundled());
            // The optional all-MiniLM-L6-v2 dependency is on this module's test class path: the bundled one serves.
            assertNull(model.unavailableReason(), "no --model: the bundled encoder");
        }
    }
}
