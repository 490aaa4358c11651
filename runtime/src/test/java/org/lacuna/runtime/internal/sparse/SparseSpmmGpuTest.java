package org.lacuna.runtime.internal.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.internal.nativelib.DeviceData;
import org.lacuna.runtime.internal.nativelib.GpuTestDevice;
import org.lacuna.runtime.internal.nativelib.NativeLibraryReport;
import org.lacuna.runtime.testing.GpuTest;

/** cuSPARSE CSR SpMM on a real GPU against a double-precision reference; skipped without a GPU or cuSPARSE. */
@GpuTest
class SparseSpmmGpuTest {
    private static final int M = 37;
    private static final int N = 53;
    private static final int K = 71;
    private static GpuTestDevice gpu;
    private static SparseBinding sparse;

    @BeforeAll
    static void open() {
        gpu = GpuTestDevice.openOrSkip();
        NativeLibraryReport report = SparseBindings.report();
        assumeTrue(report.available(), () -> "no cuSPARSE on this GPU machine:\n" + report.render());
        sparse = SparseBindings.open();
    }

    @AfterAll
    static void close() {
        if (sparse != null) {
            sparse.close();
        }
        if (gpu != null) {
            gpu.close();
        }
    }

    @BeforeEach
    void current() {
        gpu.makeCurrent();
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void matchesADoubleReferenceAndWritesEveryElementOfC(DType type) {
        Random random = new Random(17 + type.ordinal());
        Csr a = Csr.random(random, type, M, K);
        float[] b = new float[K * N];
        for (int i = 0; i < b.length; i++) {
            b[i] = DeviceData.nonZero(random, type);
        }
        float alpha = 1.5f;
        // One row of guard after C: a write past m×n shows up as a changed guard.
        int cBytes = (M + 1) * N * type.byteSize();
        long cDevice = gpu.allocate(cBytes);
        gpu.fill(cDevice, 0xFF, cBytes);

        float[] c = run(a, b, type, cDevice, cBytes, alpha, 0f);

        byte[] raw = DeviceData.encode(type, c);
        for (int at = M * N * type.byteSize(); at < cBytes; at++) {
            assertEquals((byte) 0xFF, raw[at], "guard byte " + at + " written");
        }
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double reference = 0;
                double magnitude = 0;
                for (int e = a.rowOffsets[i]; e < a.rowOffsets[i + 1]; e++) {
                    double term = (double) a.values[e] * b[a.columns[e] * N + j];
                    reference += term;
                    magnitude += Math.abs(term);
                }
                reference *= alpha;
                magnitude *= alpha;
                float got = c[i * N + j];
                assertTrue(Float.isFinite(got), "C(" + i + "," + j + ") not written: " + got);
                double tolerance = 2e-5 * magnitude + DeviceData.outputRounding(type) * Math.abs(reference) + 1e-6;
                assertEquals(reference, got, tolerance, "C(" + i + "," + j + ")");
            }
        }
    }

    @Test
    void accumulatesIntoCWithBeta() {
        Random random = new Random(5);
        Csr a = Csr.random(random, DType.F32, M, K);
        float[] b = new float[K * N];
        float[] c0 = new float[M * N];
        for (int i = 0; i < b.length; i++) {
            b[i] = DeviceData.nonZero(random, DType.F32);
        }
        for (int i = 0; i < c0.length; i++) {
            c0[i] = DeviceData.nonZero(random, DType.F32);
        }
        long cDevice = gpu.upload(DeviceData.encode(DType.F32, c0));

        float[] c = run(a, b, DType.F32, cDevice, c0.length * 4, -0.75f, 0.5f);

        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double product = 0;
                for (int e = a.rowOffsets[i]; e < a.rowOffsets[i + 1]; e++) {
                    product += (double) a.values[e] * b[a.columns[e] * N + j];
                }
                double reference = -0.75 * product + 0.5 * c0[i * N + j];
                assertEquals(reference, c[i * N + j], 1e-5 * (Math.abs(product) + 2), "C(" + i + "," + j + ")");
            }
        }
    }

    /** Uploads A and B, runs SpMM into {@code cDevice}, frees everything, returns C's {@code cBytes} decoded. */
    private static float[] run(Csr a, float[] b, DType type, long cDevice, int cBytes, float alpha, float beta) {
        long rowOffsets = gpu.upload(DeviceData.encodeInts(a.rowOffsets));
        long columns = gpu.upload(DeviceData.encodeInts(a.columns));
        long values = gpu.upload(DeviceData.encode(type, a.values));
        long bDevice = gpu.upload(DeviceData.encode(type, b));
        List<Long> workspaces = new ArrayList<>();
        try {
            sparse.spmmCsr(0, M, N, K, a.values.length, rowOffsets, columns, values, type, bDevice, type,
                    cDevice, type, alpha, beta, bytes -> {
                        long workspace = gpu.allocate(bytes);
                        workspaces.add(workspace);
                        return workspace;
                    });
            return DeviceData.decode(type, gpu.download(cDevice, cBytes));
        } finally {
            workspaces.forEach(gpu::free);
            for (long address : new long[] {rowOffsets, columns, values, bDevice, cDevice}) {
                gpu.free(address);
            }
        }
    }

    /** A random CSR matrix with about 15% non-zeros and every sixth row empty. */
    private record Csr(int[] rowOffsets, int[] columns, float[] values) {
        static Csr random(Random random, DType type, int rows, int cols) {
            int[] offsets = new int[rows + 1];
            List<Integer> columnList = new ArrayList<>();
            List<Float> valueList = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                if (i % 6 != 5) {
                    for (int j = 0; j < cols; j++) {
                        if (random.nextDouble() < 0.15) {
                            columnList.add(j);
                            valueList.add(DeviceData.nonZero(random, type));
                        }
                    }
                }
                offsets[i + 1] = columnList.size();
            }
            float[] values = new float[valueList.size()];
            for (int e = 0; e < values.length; e++) {
                values[e] = valueList.get(e);
            }
            return new Csr(offsets, columnList.stream().mapToInt(Integer::intValue).toArray(), values);
        }
    }
}
