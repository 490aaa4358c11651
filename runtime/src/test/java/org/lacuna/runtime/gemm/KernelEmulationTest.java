package org.lacuna.runtime.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.ops.VoxelOpsFixtures;
import org.lacuna.runtime.pointcloud.VoxelizeFixtures;
import org.lacuna.runtime.sparseconv.KernelMapFixtures;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Runs every shipped CUDA kernel, in every declared variant, on the CPU: the emulator under
 * {@code kernels/src/test/emulator} (see its README) builds each kernel with g++ against an emulation of the PTX it
 * uses and compares with double-precision references, then checks that deliberately broken kernels are caught.
 *
 * <p>Before that, this test writes cases from the Java side's own data, so the contract between the Java side and
 * the kernels is tested end to end: 2:4 weights compressed by {@link TwoFourWeights#compress} (values and metadata
 * exactly as uploaded) with the reference output computed in double from the dense weight; kernel maps from the map
 * builder ({@link KernelMapFixtures}); clouds and what the CPU voxeliser made of them ({@link VoxelizeFixtures});
 * sparse tensors and what the CPU backends' pooling, BEV and devoxelisation made of them ({@link VoxelOpsFixtures}).
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
        writeTwoFourFixtures(fixtures);
        KernelMapFixtures.write(fixtures);
        VoxelizeFixtures.write(fixtures);
        VoxelOpsFixtures.write(fixtures);
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

    /** 2:4 GEMM cases: ragged M and N, K on and off multiples of 8, groups with 0, 1 and 2 non-zeros. */
    private static void writeTwoFourFixtures(Path root) {
        Random random = new Random(13);
        int[][] shapes = {{37, 130, 96}, {130, 37, 64}, {5, 200, 52}, {1, 128, 203}};
        int index = 0;
        for (DType dtype : List.of(DType.F16, DType.BF16)) {
            for (int[] shape : shapes) {
                writeTwoFourCase(root.resolve(String.format("two_four_%02d", index++)), random, dtype, shape[0],
                        shape[1], shape[2]);
            }
        }
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
        // The reference in double from the dense weight; the C++ side applies the variant's activation.
        double[] linear = new double[n * m];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < m; o++) {
                double sum = bias[o];
                for (int j = 0; j < k; j++) {
                    sum += (double) x[i * k + j] * w[o * k + j];
                }
                linear[i * m + o] = sum;
            }
        }
        new EmulationFixture(dir)
                .meta("n", n).meta("m", m).meta("k", k)
                .meta("mp", weights.paddedOut()).meta("kp", weights.paddedIn())
                .meta("t_in", dtype == DType.F16 ? "f16" : "bf16")
                .meta("k_aligned", k % 8 == 0 ? 1 : 0)
                .array("values", weights.values())
                .array("metadata", weights.metadata())
                .array("x", xBits)
                .array("bias", bias)
                .array("linear", linear)
                .finish();
    }
}
