package org.lacuna.runtime.sparseconv;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuVoxelizer;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.internal.cuda.ConvolutionLaunchRecords;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Sparse-convolution cases for the emulated {@code sparseconv_implicit_gemm.cu} and {@code
 * sparseconv_gather_scatter.cu} (their test reads the {@code conv*} directories): a kernel map from {@link
 * KernelMapBuilder}, the launches the CUDA backend makes for it (recorded by {@link ConvolutionLaunchRecords}: {@link
 * MapStatistics#offsetGroupBounds} and {@link MapStatistics#tileRows} for each {@link TileOrder}, {@link
 * MapStatistics#scatterGroups} for the gather-GEMM-scatter, every argument and grid) and the {@code cpu-reference}
 * backend's output, F32, without and with ReLU (the activations
 * the kernel variants carry). Inputs in F16 and F32; volumes 27 and 125; a map whose outputs include coordinates no
 * input reaches (rows without a neighbour: bias only); the KITTI sweep voxelised at 0.8 m where present.
 */
public final class SparseConvFixtures {
    private SparseConvFixtures() {
    }

    /** Writes the cases; returns how many each input dtype got. */
    public static int write(Path root) {
        Random random = new Random(41);
        CoordinateSet cloud = randomVoxels(random);
        record Case(String name, KernelMap map, int in, int out, boolean bias) {
        }
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("random_sub3", cloud.kernelMap(ConvGeometry.submanifold(3)), 20, 70, true));
        cases.add(new Case("random_sub5", cloud.kernelMap(ConvGeometry.submanifold(5)), 16, 8, true));
        cases.add(new Case("isolated_sub3", isolatedOutputs(cloud, random), 3, 5, false));
        if (Files.isRegularFile(KittiSweep.SWEEP)) {
            CoordinateSet kitti = CoordinateSet.ofKeys(new CpuVoxelizer().voxelize(KittiSweep.readSweep(),
                    Voxelization.cubic(0.8, VoxelReduction.FIRST)).keys(), new int[] {1, 1, 1});
            cases.add(new Case("kitti_sub3", kitti.kernelMap(ConvGeometry.submanifold(3)), 4, 8, true));
        }
        try (Backend reference = new ReferenceBackendProvider().open(0)) {
            for (DType dtype : List.of(DType.F16, DType.F32)) {
                for (Case c : cases) {
                    writeCase(root.resolve("conv_" + c.name() + "_" + dtype.kernelName()), reference, random, dtype,
                            c.map(), c.in(), c.out(), c.bias());
                }
            }
        }
        return cases.size();
    }

    private static void writeCase(Path dir, Backend reference, Random random, DType dtype, KernelMap map, int in,
                                  int out, boolean withBias) {
        int volume = map.volume();
        float[] x = values(random, dtype, map.inputCount() * in, 1.0);
        float[] w = values(random, dtype, volume * in * out, 1.0 / Math.sqrt(in));
        float[] bias = values(random, DType.F32, out, 0.5);
        EmulationFixture fixture = new EmulationFixture(dir)
                .meta("t_in", dtype.kernelName()).meta("n_in", map.inputCount()).meta("n_out", map.outputCount())
                .meta("in", in).meta("out", out).meta("volume", volume).meta("words", map.maskWords())
                .meta("bias", withBias ? 1 : 0)
                .array("bias", bias)
                .array("neighbours", map.neighbourTable()).array("masks", map.masks())
                .array("pair_start", map.pairStarts()).array("pair_inputs", map.pairInputs())
                .array("pair_outputs", map.pairOutputs());
        putValues(fixture, "x", dtype, x);
        putValues(fixture, "w", dtype, w);
        // The launches the CUDA backend makes for this map (MapStatistics' plan in each tile order, the scatter groups).
        ConvolutionLaunchRecords.record(fixture, reference, dtype, map, in, out, withBias);
        for (Activation activation : List.of(Activation.NONE, Activation.RELU)) {
            fixture.array("y_" + activation.kernelName(),
                    referenceOutput(reference, dtype, map, x, w, withBias ? bias : null, in, out, activation));
        }
        fixture.finish();
    }

    /** The cpu-reference backend's convolution (sums in double, one rounding to F32). */
    private static float[] referenceOutput(Backend reference, DType dtype, KernelMap map, float[] x, float[] w,
                                           float[] bias, int in, int out, Activation activation) {
        try (Closer closer = new Closer("SparseConvFixtures")) {
            DeviceArray xs = upload(closer, reference, dtype, Shape.of(map.inputCount(), in), x);
            DeviceArray ws = upload(closer, reference, dtype, Shape.of(map.volume(), in, out), w);
            DeviceArray bs = bias == null ? null : upload(closer, reference, DType.F32, Shape.of(out), bias);
            // Poisoned: an element the reference forgot to write would show as NaN.
            float[] poison = new float[map.outputCount() * out];
            java.util.Arrays.fill(poison, Float.NaN);
            DeviceArray y = upload(closer, reference, DType.F32, Shape.of(map.outputCount(), out), poison);
            reference.ops().convolution().sparseConvolution(xs, map, ws, bs, activation, Dataflow.IMPLICIT_GEMM, y);
            return HostData.downloadFloats(reference, y);
        }
    }

    private static DeviceArray upload(Closer closer, Backend backend, DType dtype, Shape shape, float[] values) {
        DeviceArray array = HostData.upload(backend, dtype, shape, values);
        closer.register(array.buffer());
        return array;
    }

    private static float[] values(Random random, DType dtype, int count, double scale) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = HalfFloats.roundTo(dtype, (float) ((random.nextDouble() * 2 - 1) * scale));
        }
        return out;
    }

    /** The values as the kernel reads them: F16 bits, or the floats themselves. */
    private static void putValues(EmulationFixture fixture, String name, DType dtype, float[] values) {
        if (dtype == DType.F32) {
            fixture.array(name, values);
        } else {
            fixture.array(name, halfBits(values));
        }
    }

    private static short[] halfBits(float[] values) {
        short[] out = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = HalfFloats.toF16(values[i]);
        }
        return out;
    }

    /**
     * The random cloud's own map plus output coordinates that no input reaches (a map the op interface's {@code
     * buildMapTables(inputs, outputs, geometry)} can build): those rows have no neighbour and get the bias alone.
     */
    private static KernelMap isolatedOutputs(CoordinateSet inputs, Random random) {
        int[] coordinates = inputs.coordinates();
        int rows = inputs.size();
        int isolated = 5;
        int[] outputs = java.util.Arrays.copyOf(coordinates, coordinates.length + 4 * isolated);
        for (int i = 0; i < isolated; i++) {
            int at = coordinates.length + 4 * i;
            outputs[at] = random.nextInt(2);
            outputs[at + 1] = 500 + 10 * i;
            outputs[at + 2] = -500;
            outputs[at + 3] = 300;
        }
        CoordinateSet outputSet = CoordinateSet.of(outputs, new int[] {1, 1, 1});
        ConvGeometry geometry = ConvGeometry.submanifold(3);
        if (outputSet.size() != rows + isolated) {
            throw new IllegalStateException("isolated outputs collided with the cloud");
        }
        return KernelMap.of(geometry, inputs, outputSet, inputs.queryNeighbours(outputSet, geometry));
    }

    /** 240 points in two batches, voxelised at 0.25: clusters, isolated voxels and negative cells. */
    private static CoordinateSet randomVoxels(Random random) {
        List<PointCloud> batches = new ArrayList<>();
        for (int b = 0; b < 2; b++) {
            int n = 120;
            float[] x = new float[n];
            float[] y = new float[n];
            float[] z = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (random.nextGaussian() * 1.2);
                y[i] = (float) (random.nextGaussian() * 1.2);
                z[i] = (float) (random.nextGaussian() * 0.4);
            }
            batches.add(PointCloud.of(x, y, z));
        }
        return CoordinateSet.ofKeys(new CpuVoxelizer().voxelize(PointCloud.batchOf(batches),
                Voxelization.cubic(0.25, VoxelReduction.FIRST)).keys(), new int[] {1, 1, 1});
    }
}
