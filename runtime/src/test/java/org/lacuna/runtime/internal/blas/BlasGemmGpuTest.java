package org.lacuna.runtime.internal.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.internal.nativelib.DeviceData;
import org.lacuna.runtime.internal.nativelib.GpuTestDevice;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.testing.GpuTest;

/** cublasGemmEx on a real GPU against a double-precision reference; skipped without a GPU or cuBLAS. */
@GpuTest
class BlasGemmGpuTest {
    private static final int M = 37;
    private static final int N = 53;
    private static final int K = 71;
    private static GpuTestDevice gpu;
    private static BlasBinding blas;

    @BeforeAll
    static void open() {
        gpu = GpuTestDevice.openOrSkip();
        NativeLibraryReport report = BlasBindings.report();
        assumeTrue(report.available(), () -> "no cuBLAS on this GPU machine:\n" + report.render());
        blas = BlasBindings.open();
    }

    @AfterAll
    static void close() {
        if (blas != null) {
            blas.close();
        }
        if (gpu != null) {
            gpu.close();
        }
    }

    @BeforeEach
    void current() {
        gpu.makeCurrent();
    }

    static Stream<Arguments> typesAndTransposes() {
        return Stream.of(
                Arguments.of(DType.F32, DType.F32, false, false),
                Arguments.of(DType.F32, DType.F32, true, true),
                Arguments.of(DType.F16, DType.F32, false, true),
                Arguments.of(DType.F16, DType.F16, true, false),
                Arguments.of(DType.BF16, DType.F32, true, true),
                Arguments.of(DType.BF16, DType.BF16, false, false));
    }

    @ParameterizedTest(name = "{0} in, {1} out, transA={2}, transB={3}")
    @MethodSource("typesAndTransposes")
    void matchesADoubleReferenceAndWritesEveryElementOfC(DType in, DType out, boolean transA, boolean transB) {
        Random random = new Random(31L * in.ordinal() + 7L * out.ordinal() + (transA ? 2 : 0) + (transB ? 1 : 0));
        ColumnMajor a = ColumnMajor.random(random, in, transA ? K : M, transA ? M : K, 3);
        ColumnMajor b = ColumnMajor.random(random, in, transB ? N : K, transB ? K : N, 5);
        int ldc = M + 2;
        float alpha = 1.25f;
        long aDevice = gpu.upload(DeviceData.encode(in, a.data));
        long bDevice = gpu.upload(DeviceData.encode(in, b.data));
        int cBytes = ldc * N * out.byteSize();
        long cDevice = gpu.allocate(cBytes);
        gpu.fill(cDevice, 0xFF, cBytes); // all-ones bits: NaN in F32, F16 and BF16

        blas.gemmEx(0, transA, transB, M, N, K, alpha, aDevice, in, a.ld, bDevice, in, b.ld, 0f, cDevice, out, ldc);

        byte[] raw = gpu.download(cDevice, cBytes);
        float[] c = DeviceData.decode(out, raw);
        for (int j = 0; j < N; j++) {
            for (int i = 0; i < ldc; i++) {
                int at = i + j * ldc;
                if (i >= M) {
                    for (int byteIndex = at * out.byteSize(); byteIndex < (at + 1) * out.byteSize(); byteIndex++) {
                        assertEquals((byte) 0xFF, raw[byteIndex], "padding row " + i + " of column " + j + " written");
                    }
                    continue;
                }
                double reference = 0;
                double magnitude = 0;
                for (int p = 0; p < K; p++) {
                    double term = (double) (transA ? a.at(p, i) : a.at(i, p)) * (transB ? b.at(j, p) : b.at(p, j));
                    reference += term;
                    magnitude += Math.abs(term);
                }
                reference *= alpha;
                magnitude *= alpha;
                double tolerance = 2e-5 * magnitude + DeviceData.outputRounding(out) * Math.abs(reference) + 1e-6;
                float got = c[at];
                assertTrue(Float.isFinite(got), "C(" + i + "," + j + ") not written: " + got);
                assertEquals(reference, got, tolerance, "C(" + i + "," + j + ")");
            }
        }
        gpu.free(aDevice);
        gpu.free(bDevice);
        gpu.free(cDevice);
    }

    @Test
    void accumulatesIntoCWithBeta() {
        Random random = new Random(99);
        ColumnMajor a = ColumnMajor.random(random, DType.F32, M, K, 0);
        ColumnMajor b = ColumnMajor.random(random, DType.F32, K, N, 0);
        ColumnMajor c0 = ColumnMajor.random(random, DType.F32, M, N, 0);
        long aDevice = gpu.upload(DeviceData.encode(DType.F32, a.data));
        long bDevice = gpu.upload(DeviceData.encode(DType.F32, b.data));
        long cDevice = gpu.upload(DeviceData.encode(DType.F32, c0.data));

        blas.gemmEx(0, false, false, M, N, K, 0.75f, aDevice, DType.F32, M, bDevice, DType.F32, K,
                -0.5f, cDevice, DType.F32, M);

        float[] c = DeviceData.decode(DType.F32, gpu.download(cDevice, M * N * 4));
        for (int j = 0; j < N; j++) {
            for (int i = 0; i < M; i++) {
                double product = 0;
                double magnitude = 0;
                for (int p = 0; p < K; p++) {
                    product += (double) a.at(i, p) * b.at(p, j);
                    magnitude += Math.abs((double) a.at(i, p) * b.at(p, j));
                }
                double reference = 0.75 * product - 0.5 * c0.at(i, j);
                assertEquals(reference, c[i + j * M], 2e-5 * (magnitude + 1), "C(" + i + "," + j + ")");
            }
        }
        gpu.free(aDevice);
        gpu.free(bDevice);
        gpu.free(cDevice);
    }

    @Test
    void aClosedHandleAndABadDtypeAreRefusedBeforeCublas() {
        long scratch = gpu.allocate(64);
        assertThrows(InvalidInputException.class, () -> blas.gemmEx(0, false, false, 2, 2, 2, 1f,
                scratch, DType.I32, 2, scratch, DType.F32, 2, 0f, scratch, DType.F32, 2));
        BlasBinding second = BlasBindings.open();
        assertTrue(second.version() > 0);
        second.close();
        second.close();
        assertThrows(ResourceClosedException.class, () -> second.gemmEx(0, false, false, 2, 2, 2, 1f,
                scratch, DType.F32, 2, scratch, DType.F32, 2, 0f, scratch, DType.F32, 2));
        gpu.free(scratch);
    }

    /** A column-major rows×cols matrix with leading dimension rows+padding; padding holds NaN so reading it shows. */
    private record ColumnMajor(float[] data, int rows, int ld) {
        static ColumnMajor random(Random random, DType type, int rows, int cols, int padding) {
            int ld = rows + padding;
            float[] data = new float[ld * cols];
            Arrays.fill(data, Float.NaN);
            for (int j = 0; j < cols; j++) {
                for (int i = 0; i < rows; i++) {
                    data[i + j * ld] = DeviceData.nonZero(random, type);
                }
            }
            return new ColumnMajor(data, rows, ld);
        }

        float at(int row, int col) {
            return data[row + col * ld];
        }
    }
}
