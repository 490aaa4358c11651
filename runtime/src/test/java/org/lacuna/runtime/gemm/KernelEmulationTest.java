package org.lacuna.runtime.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.internal.cuda.AttentionFixtures;
import org.lacuna.runtime.internal.cuda.ElementwiseFixtures;
import org.lacuna.runtime.internal.cuda.TwoFourLaunchRecords;
import org.lacuna.runtime.ops.VoxelOpsFixtures;
import org.lacuna.runtime.pointcloud.VoxelizeFixtures;
import org.lacuna.runtime.sparseconv.KernelMapFixtures;
import org.lacuna.runtime.sparseconv.SparseConvFixtures;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Runs every shipped CUDA kernel, in every declared variant, on the CPU: the emulator under
 * {@code kernels/src/test/emulator} (see its README) builds each kernel with g++ against an emulation of the PTX it
 * uses and compares with double-precision references, then checks that deliberately broken kernels are caught.
 *
 * <p>Before that, this test writes cases from the Java side's own data, so the contract between the Java side and
 * the kernels is tested end to end, with the {@code cpu-reference} backend's results to compare with: 2:4 weights
 * compressed by {@link TwoFourWeights#compress} (values and metadata exactly as uploaded) and the reference's
 * {@code linearTwoFour}; kernel maps from the map builder ({@link KernelMapFixtures}); clouds and what the CPU voxeliser
 * (the reference backend's voxeliser) made of them ({@link VoxelizeFixtures}); sparse convolutions with the CUDA
 * backend's launch plan ({@link SparseConvFixtures}); attention, token selections and row copies through the
 * attention contracts ({@link AttentionFixtures}); sparse tensors and what the CPU backends' pooling, BEV and
 * devoxelisation made of them ({@link VoxelOpsFixtures}); the elementwise and normalisation kernels, launched exactly
 * as {@code CudaElementwiseOps} would launch them ({@link ElementwiseFixtures}). Each fixture-driven build must report
 * running exactly the cases written for it.
 *
 * <p>Skipped, with a message on the console, where no C++ compiler is installed.
 */
class KernelEmulationTest {
    private static final Path EMULATOR = Path.of("..", "kernels", "src", "test", "emulator");
    private static final Path WORK = Path.of("target", "kernel-emulation");

    @Test
    void everyKernelVariantMatchesTheReferenceAndEveryMutantIsCaught() throws Exception {
        String compiler = System.getenv().getOrDefault("CXX", "g++");
        if (!runs(List.of(compiler, "--version")) || !runs(List.of("bash", "--version"))) {
            String message = "kernel emulation SKIPPED: no C++ compiler ('" + compiler + "') or bash on this machine;"
                    + " install g++ to run every CUDA kernel on the CPU";
            System.out.println(message);
            Assumptions.abort(message);
        }
        Path fixtures = WORK.resolve("fixtures");
        deleteRecursively(fixtures);
        Map<String, Integer> expected = new HashMap<>(writeTwoFourFixtures(fixtures));
        KernelMapFixtures.write(fixtures);
        expected.put("map", casesStartingWith(fixtures, "map"));
        VoxelizeFixtures.write(fixtures);
        VoxelOpsFixtures.write(fixtures);
        // One build reads both: the voxeliser's cases and those of the family's other ops.
        expected.put("voxelize", casesStartingWith(fixtures, "voxelize") + casesStartingWith(fixtures, "voxelops"));
        expected.put("conv", SparseConvFixtures.write(fixtures));
        expected.putAll(AttentionFixtures.write(fixtures));
        expected.put("small", ElementwiseFixtures.write(fixtures));
        expected.putAll(smallKernelCases(fixtures));
        ProcessBuilder builder = new ProcessBuilder("bash", EMULATOR.resolve("run.sh").toString(), "1",
                fixtures.toAbsolutePath().toString());
        // The build folder (its binaries are cached by source key) under target/ unless the caller names one.
        builder.environment().putIfAbsent("LACUNA_EMU_BUILD", WORK.resolve("build").toAbsolutePath().toString());
        // Into a file, then printed: a child writing to the forked JVM's own stdout corrupts surefire's channel.
        Path log = WORK.resolve("run.log");
        builder.redirectErrorStream(true);
        builder.redirectOutput(log.toFile());
        Process process = builder.start();
        boolean finished = process.waitFor(30, TimeUnit.MINUTES);
        if (!finished) {
            process.destroyForcibly();
        }
        System.out.print(Files.readString(log));
        if (!finished) {
            throw new AssertionError("kernel emulation did not finish in 30 minutes");
        }
        assertEquals(0, process.exitValue(), "kernel emulation failed: see the output above");
        assertEveryBuildRanItsCases(Files.readAllLines(log), expected);
    }

    /**
     * Each fixture-driven build ends its line with "N fixture cases": N must be what was written for it (its input
     * type, head dim, copy unit...), so that a test cannot pass by running none of the Java side's cases (a renamed
     * meta key, a lost directory). The small kernels' build (every elementwise kernel and layer norm, one
     * translation unit) also reports its cases per kernel file, and each must be what was written for that kernel
     * ({@code small layer_norm.cu}...). Every family must have reported unless the run was narrowed by
     * LACUNA_EMU_ONLY.
     */
    static void assertEveryBuildRanItsCases(List<String> log, Map<String, Integer> expected) {
        Pattern line = Pattern.compile("^ok +([A-Za-z0-9_.-]+): .*?(?:, (\\d+) fixture cases\\))?$");
        Set<String> families = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String text : log) {
            Matcher m = line.matcher(text);
            if (!m.matches()) {
                continue;
            }
            String build = m.group(1);
            String key = fixtureKey(build);
            if (key == null) {
                continue;
            }
            families.add(key.split(" ")[0]);
            Integer want = expected.get(key);
            Integer got = m.group(2) == null ? null : Integer.valueOf(m.group(2));
            if (want == null || want == 0 || !want.equals(got)) {
                problems.add(build + ": ran " + got + " fixture cases, expected " + want + " (" + key + ")");
            }
            if (key.equals("small")) {
                problems.addAll(smallKernelProblems(build, text, expected));
            }
        }
        if (System.getenv("LACUNA_EMU_ONLY") == null) {
            for (String family : List.of("two_four", "conv", "map", "voxelize", "attn", "select", "small")) {
                if (!families.contains(family)) {
                    problems.add("no build of the fixture family '" + family + "' reported");
                }
            }
        }
        assertTrue(problems.isEmpty(), "fixture cases not run as written:\n" + String.join("\n", problems));
    }

    @Test
    void theCaseCountCheckRejectsABuildThatRanFewerCasesThanWrittenOrNone() {
        Map<String, Integer> expected = Map.of("select 4", 9, "conv", 4);
        List<String> fewer = List.of("ok     select_UNIT-4: ok (exact, 8 fixture cases)");
        assertThrows(AssertionError.class, () -> assertEveryBuildRanItsCases(fewer, expected));
        List<String> uncounted = List.of("ok     sparseconv_implicit_T_IN-f16_T_OUT-f32_ACT-none: ok (max |err| 1e-6)");
        assertThrows(AssertionError.class, () -> assertEveryBuildRanItsCases(uncounted, expected));
        // Nothing written for a build: zero expected cases is a failure too, not a pass.
        List<String> unexpected = List.of("ok     select_UNIT-2: ok (exact, 0 fixture cases)");
        assertThrows(AssertionError.class, () -> assertEveryBuildRanItsCases(unexpected, expected));
    }

    @Test
    void theCaseCountCheckAcceptsEveryFamilyAtItsWrittenCount() {
        Map<String, Integer> expected = Map.of("two_four f16 aligned", 2, "conv", 4, "map", 10, "voxelize", 6,
                "attn bf16 128 1", 2, "select 16", 9, "small", 128, "small cast.cu", 100, "small layer_norm.cu", 28);
        List<String> log = List.of(
                "ok     two_four_sm90_T_IN-f16_T_OUT-f16_ACT-none_K_ALIGNED-1: ok (max |err| 3.09e-03, 2 fixture cases)",
                "ok     sparseconv_gather_T_IN-f32: ok (max |err| 9.54e-07, 4 fixture cases)",
                "ok     sparseconv_map: ok (exact, 10 fixture cases)",
                "ok     voxelize_BLOCK-256: ok (bit for bit, 6 fixture cases)",
                "ok     attention_T_IN-bf16_HEAD_DIM-128_CAUSAL-1_mean: ok (max |err| 7.81e-03, 2 fixture cases)",
                "ok     select_UNIT-16: ok (exact, 9 fixture cases)",
                "ok     small_kernels: ok (max |err| 2.84e-02; cases per kernel: cast.cu 100 layer_norm.cu 28, 128 "
                        + "fixture cases)");
        if (System.getenv("LACUNA_EMU_ONLY") == null) {
            assertEveryBuildRanItsCases(log, expected);
        }
        assertEquals("two_four bf16 any", fixtureKey("two_four_T_IN-bf16_T_OUT-f32_ACT-none_BN-32_K_ALIGNED-0"));
        assertEquals("small", fixtureKey("small_kernels"));
    }

    /** Layer norm runs in the small kernels' build: its own count is checked, not only the build's total. */
    @Test
    void theCaseCountCheckRejectsASmallKernelThatRanFewerCasesThanWritten() {
        Map<String, Integer> expected = Map.of("small", 128, "small cast.cu", 100, "small layer_norm.cu", 28);
        List<String> lostLayerNorm = List.of("ok     small_kernels: ok (max |err| 2.84e-02; cases per kernel: cast.cu "
                + "101 layer_norm.cu 27, 128 fixture cases)");
        assertThrows(AssertionError.class, () -> assertEveryBuildRanItsCases(lostLayerNorm, expected));
        List<String> noLayerNorm = List.of("ok     small_kernels: ok (max |err| 2.84e-02; cases per kernel: cast.cu "
                + "128, 128 fixture cases)");
        assertThrows(AssertionError.class, () -> assertEveryBuildRanItsCases(noLayerNorm, expected));
        List<String> unsplit = List.of("ok     small_kernels: ok (max |err| 2.84e-02, 128 fixture cases)");
        assertThrows(AssertionError.class, () -> assertEveryBuildRanItsCases(unsplit, expected));
    }

    /** Per kernel file of the small kernels' build, the cases it reported against those written for it. */
    private static List<String> smallKernelProblems(String build, String line, Map<String, Integer> expected) {
        Map<String, Integer> reported = new TreeMap<>();
        int from = line.indexOf("cases per kernel:");
        if (from >= 0) {
            Matcher pair = Pattern.compile("([a-z_]+\\.cu) (\\d+)").matcher(line.substring(from));
            while (pair.find()) {
                reported.put("small " + pair.group(1), Integer.valueOf(pair.group(2)));
            }
        }
        Map<String, Integer> written = new TreeMap<>();
        expected.forEach((key, count) -> {
            if (key.startsWith("small ")) {
                written.put(key, count);
            }
        });
        List<String> problems = new ArrayList<>();
        if (written.isEmpty()) {
            problems.add(build + ": no small-kernel cases were written per kernel");
        }
        Set<String> kernels = new TreeSet<>(written.keySet());
        kernels.addAll(reported.keySet());
        for (String key : kernels) {
            if (!java.util.Objects.equals(written.get(key), reported.get(key))) {
                problems.add(build + ": ran " + reported.get(key) + " cases of " + key.substring(6) + ", expected "
                        + written.get(key));
            }
        }
        return problems;
    }

    /** The cases written per small kernel ({@code ew_NNN_layer_norm}: {@code small layer_norm.cu}). */
    private static Map<String, Integer> smallKernelCases(Path fixtures) throws IOException {
        Map<String, Integer> counts = new TreeMap<>();
        Pattern name = Pattern.compile("ew_\\d+_(\\w+)");
        try (var entries = Files.list(fixtures)) {
            for (Path p : entries.toList()) {
                Matcher m = name.matcher(p.getFileName().toString());
                if (m.matches()) {
                    counts.merge("small " + m.group(1) + ".cu", 1, Integer::sum);
                }
            }
        }
        return counts;
    }

    /** The expected-count key of a build of run.sh (its name is the variant's defines), or null if it reads none. */
    static String fixtureKey(String build) {
        Matcher m;
        if ((m = Pattern.compile("two_four_(?:sm90_)?T_IN-(\\w+?)_.*K_ALIGNED-(\\d)").matcher(build)).matches()) {
            return "two_four " + m.group(1) + (m.group(2).equals("1") ? " aligned" : " any");
        }
        if ((m = Pattern.compile("sparseconv_(?:implicit|gather)_T_IN-(\\w+?)(?:_.*)?").matcher(build)).matches()) {
            return "conv";
        }
        if ((m = Pattern.compile("attention_T_IN-(\\w+?)_HEAD_DIM-(\\d+)_CAUSAL-(\\d)_\\w+").matcher(build)).matches()) {
            return "attn " + m.group(1) + " " + m.group(2) + " " + m.group(3);
        }
        if ((m = Pattern.compile("select_UNIT-(\\d+)").matcher(build)).matches()) {
            return "select " + m.group(1);
        }
        if (build.equals("small_kernels")) {
            return "small";
        }
        if (build.equals("sparseconv_map")) {
            return "map";
        }
        if (build.startsWith("voxelize_")) {
            return "voxelize";
        }
        return null;
    }

    private static int casesStartingWith(Path root, String prefix) throws IOException {
        try (var entries = Files.list(root)) {
            return (int) entries.filter(p -> p.getFileName().toString().startsWith(prefix)).count();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    private static boolean runs(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * 2:4 GEMM cases: ragged M and N, K on and off multiples of 8, groups with 0, 1 and 2 non-zeros. Returns the
     * cases per input type, all ("any", what K_ALIGNED=0 builds run) and with K a multiple of 8 ("aligned").
     */
    private static Map<String, Integer> writeTwoFourFixtures(Path root) {
        Random random = new Random(13);
        int[][] shapes = {{37, 130, 96}, {130, 37, 64}, {5, 200, 52}, {1, 128, 203}};
        int index = 0;
        Map<String, Integer> counts = new HashMap<>();
        for (DType dtype : List.of(DType.F16, DType.BF16)) {
            for (int[] shape : shapes) {
                writeTwoFourCase(root.resolve(String.format("two_four_%02d", index++)), random, dtype, shape[0],
                        shape[1], shape[2]);
                counts.merge("two_four " + dtype.kernelName() + " any", 1, Integer::sum);
                counts.merge("two_four " + dtype.kernelName() + " aligned", shape[2] % 8 == 0 ? 1 : 0, Integer::sum);
            }
        }
        return counts;
    }

    private static void writeTwoFourCase(Path dir, Random random, DType dtype, int n, int m, int k) {
        float[] w = new float[m * k];
        for (int row = 0; row < m; row++) {
            for (int group = 0; group * 4 < k; group++) {
                int kept = random.nextInt(3);  // 0, 1 or 2 non-zeros
                int first = random.nextInt(4);
                int second = (first + 1 + random.nextInt(3)) % 4;
                for (int h = 0; h < kept; h++) {
                    int column = group * 4 + (h == 0 ? first : second);
                    if (column < k) {
                        w[row * k + column] = HalfFloats.roundTo(dtype, random.nextFloat() * 2 - 1);
                    }
                }
            }
        }
        TwoFourWeights weights = TwoFourWeights.compress(w, m, k, dtype);
        float[] x = new float[n * k];
        short[] xBits = new short[n * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = HalfFloats.roundTo(dtype, random.nextFloat() * 2 - 1);
            xBits[i] = dtype == DType.F16 ? HalfFloats.toF16(x[i]) : HalfFloats.toBf16(x[i]);
        }
        float[] bias = new float[m];
        for (int i = 0; i < m; i++) {
            bias[i] = random.nextFloat() - 0.5f;
        }
        EmulationFixture fixture = new EmulationFixture(dir);
        // The cpu-reference backend's output (double sums from the decompressed weight, one rounding to F32), before
        // the activation, which the C++ side applies as its variant says.
        double[] linear = new double[n * m];
        float[] poison = new float[n * m];
        Arrays.fill(poison, Float.NaN);
        try (Backend reference = new ReferenceBackendProvider().open(0);
             Closer closer = new Closer("KernelEmulationTest")) {
            DeviceArray xs = HostData.upload(reference, dtype, Shape.of(n, k), x);
            closer.register(xs.buffer());
            DeviceArray bs = HostData.upload(reference, DType.F32, Shape.of(m), bias);
            closer.register(bs.buffer());
            DeviceArray ys = HostData.upload(reference, DType.F32, Shape.of(n, m), poison);
            closer.register(ys.buffer());
            TwoFourWeight uploaded = DeviceWeights.upload(reference, weights);
            closer.register(uploaded.values().buffer());
            closer.register(uploaded.metadata().buffer());
            reference.ops().gemm().linearTwoFour(xs, uploaded, bs, Activation.NONE, ys);
            float[] y = HostData.downloadFloats(reference, ys);
            for (int i = 0; i < y.length; i++) {
                linear[i] = y[i];
            }
            // The launches CudaGemmOps makes for this case, one per variant that can run it.
            TwoFourLaunchRecords.record(fixture, reference, xs, uploaded, bs);
        }
        fixture
                .meta("n", n).meta("m", m).meta("k", k)
                .meta("mp", weights.paddedOut()).meta("kp", weights.paddedIn())
                .meta("t_in", dtype == DType.F16 ? "f16" : "bf16")
                .meta("k_aligned", k % 8 == 0 ? 1 : 0)
                .array("values", weights.values())
                .array("metadata", weights.metadata())
                .array("x", xBits)
                .array("bias", bias)
                .array("linear", linear);
        fixture.finish();
    }
}
