package org.lacuna.api.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.Safetensors;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * {@code bench/anchors/export_state_dict.py} against Lacuna's own loaders: files in TorchSparse's and OpenPCDet's
 * (spconv 1 and 2) layouts go through the script, and the networks built from its output hold exactly the
 * parameters that Lacuna's independent handling of those layouts gives (ModelWeights' TorchSparse kernel order;
 * this test's own spconv transposition). Needs /usr/bin/python3 with numpy; skipped, saying so, without them.
 */
class ExportStateDictScriptTest {
    private static final Path SCRIPT = Path.of("").toAbsolutePath().getParent()
            .resolve("bench/anchors/export_state_dict.py");
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @TempDir
    Path dir;
    private Session session;

    @BeforeEach
    void open() {
        session = Lacuna.open("cpu", 0);
    }

    @AfterEach
    void close() {
        session.close();
    }

    @Test
    void aTorchSparseMinkUNetLoadsAsLacunaReadsTorchSparsesKernelOrder() throws Exception {
        MinkUNet.Config config = MinkUNet.Config.semanticKitti(4).scaled(0.125).withNumClasses(3);
        Map<String, Safetensors.Entry> original;
        try (MinkUNet net = MinkUNet.create(session, config, ModelWeights.random(5))) {
            original = net.parameters();
        }
        // The same numbers read as a TorchSparse checkpoint: DataParallel's prefix, 1x1x1 kernels as [in, out].
        List<Safetensors.Entry> torchsparse = new ArrayList<>();
        Map<String, Safetensors.Entry> unprefixed = new LinkedHashMap<>();
        for (Safetensors.Entry e : original.values()) {
            long[] shape = e.shape().length == 3 && e.shape()[0] == 1 ? new long[] {e.shape()[1], e.shape()[2]}
                    : e.shape();
            torchsparse.add(new Safetensors.Entry("module." + e.name(), "F32", shape, e.values()));
            unprefixed.put(e.name(), new Safetensors.Entry(e.name(), "F32", shape, e.values()));
        }
        Path in = dir.resolve("torchsparse.safetensors");
        Safetensors.write(in, torchsparse);
        Path out = dir.resolve("lacuna.safetensors");
        String log = export("--format", "torchsparse", in.toString(), out.toString());
        assertTrue(log.contains("wrote " + original.size() + " tensors"), log);

        Map<String, Safetensors.Entry> viaJava;
        try (MinkUNet net = MinkUNet.create(session, config, ModelWeights.of(unprefixed, "torchsparse")
                .withKernelOrder(ModelWeights.KernelOrder.TORCHSPARSE_V1))) {
            viaJava = net.parameters();
        }
        ModelWeights exported = ModelWeights.load(out);
        try (MinkUNet net = MinkUNet.create(session, config, exported)) {
            assertEquals(List.of(), exported.unused());
            assertSameParameters(viaJava, net.parameters());
        }
        assertFalse(Arrays.equals(original.get("stem.0.kernel").values(), viaJava.get("stem.0.kernel").values()),
                "odd kernels are reordered (else this test could not tell the orders apart)");
        assertArrayEquals(original.get("stage1.0.net.0.kernel").values(),
                viaJava.get("stage1.0.net.0.kernel").values(), "even kernels keep their order");
    }

    @Test
    void anOpenPcdetBackboneLoadsFromSpconvOneAndTwoLayouts() throws Exception {
        VoxelBackboneBev.Config config = new VoxelBackboneBev.Config(4, Int3.of(-20, 0, -4), Int3.of(40, 32, 20),
                DType.F32);
        Map<String, Safetensors.Entry> original;
        try (VoxelBackboneBev net = VoxelBackboneBev.create(session, config, ModelWeights.random(8))) {
            original = net.parameters();
        }
        for (int version : new int[] {1, 2}) {
            List<Safetensors.Entry> spconv = new ArrayList<>();
            for (Safetensors.Entry e : original.values()) {
                spconv.add(e.shape().length == 3 ? toSpconv("backbone_3d." + e.name(), e, version)
                        : new Safetensors.Entry("backbone_3d." + e.name(), "F32", e.shape(), e.values()));
            }
            spconv.add(new Safetensors.Entry("dense_head.conv_cls.weight", "F32", new long[] {2, 3},
                    new float[6])); // another module of the detector: left out
            Path in = dir.resolve("openpcdet-spconv" + version + ".safetensors");
            Safetensors.write(in, spconv);
            Path out = dir.resolve("backbone" + version + ".safetensors");
            export("--format", "openpcdet", "--spconv", Integer.toString(version), in.toString(), out.toString());
            ModelWeights exported = ModelWeights.load(out);
            try (VoxelBackboneBev net = VoxelBackboneBev.create(session, config, exported)) {
                assertEquals(List.of(), exported.unused(), "spconv " + version);
                assertSameParameters(original, net.parameters());
            }
        }
    }

    /**
     * Lacuna's [volume, in, out] (offset (x, y, z) at (ix·ky + iy)·kz + iz) as spconv stores it over OpenPCDet's
     * (z, y, x) axes: [out, kz, ky, kx, in] (2.x) or [kz, ky, kx, in, out] (1.x). A volume of 3 is conv_out's 1×1×3.
     */
    private static Safetensors.Entry toSpconv(String name, Safetensors.Entry lacuna, int version) {
        int volume = (int) lacuna.shape()[0];
        int in = (int) lacuna.shape()[1];
        int out = (int) lacuna.shape()[2];
        int kx = volume == 27 ? 3 : 1;
        int ky = kx;
        int kz = volume / (kx * ky);
        float[] src = lacuna.values();
        float[] dst = new float[src.length];
        for (int ix = 0; ix < kx; ix++) {
            for (int iy = 0; iy < ky; iy++) {
                for (int iz = 0; iz < kz; iz++) {
                    int v = (ix * ky + iy) * kz + iz;
                    for (int i = 0; i < in; i++) {
                        for (int o = 0; o < out; o++) {
                            float value = src[(v * in + i) * out + o];
                            int at = version == 2 ? (((o * kz + iz) * ky + iy) * kx + ix) * in + i
                                    : (((iz * ky + iy) * kx + ix) * in + i) * out + o;
                            dst[at] = value;
                        }
                    }
                }
            }
        }
        long[] shape = version == 2 ? new long[] {out, kz, ky, kx, in} : new long[] {kz, ky, kx, in, out};
        return new Safetensors.Entry(name, "F32", shape, dst);
    }

    private static void assertSameParameters(Map<String, Safetensors.Entry> want, Map<String, Safetensors.Entry> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String key : want.keySet()) {
            assertArrayEquals(want.get(key).shape(), got.get(key).shape(), key);
            assertArrayEquals(want.get(key).values(), got.get(key).values(), key);
        }
    }

    private String export(String... args) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON) && Files.isRegularFile(SCRIPT), "no " + PYTHON + " or no "
                + SCRIPT + ": the export script's check is skipped");
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), SCRIPT.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the script finishes");
        Assumptions.assumeFalse(output.contains("No module named 'numpy'"), "numpy is not installed for " + PYTHON);
        assertEquals(0, process.exitValue(), output);
        return output;
    }
}
