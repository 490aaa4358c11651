package org.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.api.text.SentenceEmbedder;
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

    @Test
    void segmentAndPlanBuildTheSameMinkUNetFromTheSharedOptions() {
        String[] args = {"-w", "net.safetensors", "--seed", "7", "--classes", "5", "--channel-ratio", "0.5",
                "--kernel-order", "torchsparse1", "--voxel", "0.1"};
        List<org.lacuna.api.pointcloud.SegmenterOptions> built = new java.util.ArrayList<>();
        for (Object command : List.of(new SegmentCommand(), new PlanCommand())) {
            CommandLine line = new CommandLine(command);
            List<String> given = new java.util.ArrayList<>(List.of(args));
            if (command instanceof SegmentCommand) {
                given.add("scan.bin");
            }
            line.parseArgs(given.toArray(String[]::new));
            MinkUNetOptions options = (MinkUNetOptions) line.getCommandSpec().mixins().get("network").userObject();
            built.add(options.segmenterOptions(1));
        }
        org.lacuna.api.pointcloud.SegmenterOptions segment = built.get(0);
        org.lacuna.api.pointcloud.SegmenterOptions plan = built.get(1);
        // The record's network holds an array: compared field by field.
        assertEquals(List.of(segment.voxelSize(), segment.weights(), segment.seed(), segment.kernelOrder(),
                        segment.features(), segment.reduction(), segment.network().inChannels(),
                        segment.network().numClasses(), segment.network().dtype()),
                List.of(plan.voxelSize(), plan.weights(), plan.seed(), plan.kernelOrder(), plan.features(),
                        plan.reduction(), plan.network().inChannels(), plan.network().numClasses(),
                        plan.network().dtype()));
        assertArrayEquals(segment.network().channels(), plan.network().channels());
        assertEquals(0.1, plan.voxelSize());
        assertEquals(Path.of("net.safetensors"), plan.weights().orElseThrow());
        assertEquals(org.lacuna.api.models.ModelWeights.KernelOrder.TORCHSPARSE_V1, plan.kernelOrder());
        assertEquals(4, plan.network().inChannels(), "x, y, z and the cloud's one channel");
        assertEquals(5, plan.network().numClasses());
        assertEquals(org.lacuna.api.pointcloud.SegmenterOptions.defaults().network().scaled(0.5).channels()[0],
                plan.network().channels()[0]);
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
            assertEquals(SentenceEmbedder.bundledAvailable(), model.unavailableReason() == null);
        }
    }
}
