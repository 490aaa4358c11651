package org.lacuna.runtime.sparseconv;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.lacuna.runtime.cpu.CpuVoxelizer;
import org.lacuna.runtime.internal.cuda.RadixSortRecords;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Kernel-map cases for the emulated {@code sparseconv_map.cu} (its test reads the {@code map*} directories): the
 * coordinate keys, the offsets as {@link ConvGeometry#deltas} gives them to the device, and the neighbour table and
 * offset-major pair lists {@link KernelMapBuilder} built, which the device's hash, query and pair kernels must
 * reproduce exactly; for the resident build also the kernel and step the device makes the deltas from, a strided
 * map's output stride (the device computes the output keys itself), a transposed map (the device queries the coarse
 * set from the fine one with negated deltas) and the implicit GEMM's row orders ({@link MapStatistics#sortedRows}),
 * one of them also as the recorded launches of the device's radix sort ({@link RadixSortRecords}).
 * Coordinates from the CPU voxeliser: a random cloud in two batches and, where present, the real KITTI sweep.
 */
public final class KernelMapFixtures {
    private KernelMapFixtures() {
    }

    public static void write(Path root) {
        Map<String, CoordinateSet> clouds = new LinkedHashMap<>();
        clouds.put("random", randomVoxels(new Random(29)));
        if (Files.isRegularFile(KittiSweep.SWEEP)) {
            clouds.put("kitti", CoordinateSet.ofKeys(new CpuVoxelizer().voxelize(KittiSweep.readSweep(),
                    Voxelization.cubic(0.8, VoxelReduction.FIRST)).keys(), new int[] {1, 1, 1}));
        }
        Map<String, ConvGeometry> geometries = new LinkedHashMap<>();
        geometries.put("sub3", ConvGeometry.submanifold(3));
        geometries.put("sub5", ConvGeometry.submanifold(5));
        geometries.put("dil2", ConvGeometry.submanifold(new Int3(3, 3, 3), new Int3(2, 2, 2)));
        geometries.put("down2", ConvGeometry.strided(2, 2));
        geometries.put("down3s2", ConvGeometry.strided(3, 2));
        geometries.put("up2", ConvGeometry.transposed(2, 2));
        for (var cloud : clouds.entrySet()) {
            for (var geometry : geometries.entrySet()) {
                ConvGeometry g = geometry.getValue();
                CoordinateSet inputs = g.transposed()
                        ? cloud.getValue().kernelMap(g.inverse()).outputs() : cloud.getValue();
                KernelMap map = KernelMapBuilder.build(inputs, g);
                // A transposed map looks from the fine outputs back at the coarse inputs: the deltas at the
                // outputs' tensor stride, negated.
                Int3 stride = g.transposed() ? map.outputs().tensorStride() : inputs.tensorStride();
                Int3 step = g.dilation().times(stride);
                int sign = g.transposed() ? -1 : 1;
                int[] deltas = g.deltas(stride);
                for (int i = 0; i < deltas.length; i++) {
                    deltas[i] *= sign;
                }
                int volume = g.volume();
                EmulationFixture fixture = new EmulationFixture(root.resolve("map_" + cloud.getKey() + "_"
                        + geometry.getKey()))
                        .meta("geometry", g)
                        .array("in_keys", inputs.keys())
                        .array("in_coordinates", inputs.coordinates())
                        .array("out_keys", map.outputs().keys())
                        .array("deltas", deltas)
                        .array("kernel", new int[] {g.kernelSize().x(), g.kernelSize().y(), g.kernelSize().z(),
                                step.x(), step.y(), step.z(), sign})
                        .array("neighbours", map.neighbourTable())
                        .array("pair_start", map.pairStarts())
                        .array("pair_inputs", map.pairInputs())
                        .array("pair_outputs", map.pairOutputs())
                        .array("sorted_rows", map.statistics().sortedRows(0, volume))
                        .array("sorted_rows_low", map.statistics().sortedRows(0, Math.max(1, volume / 2)))
                        .array("sorted_rows_high", map.statistics().sortedRows(volume / 2, volume));
                if (!g.isSubmanifold() && !g.transposed()) {
                    fixture.array("out_stride", map.outputs().tensorStride().toArray());
                }
                if (volume <= 64) {
                    recordRowOrderSort(fixture, map);
                }
                fixture.finish();
            }
        }
    }

    /**
     * The implicit GEMM's whole-volume row order (one mask word: volume <= 64) as the device sorts it: keys ~mask, so
     * more neighbours first and ties in row order, which must give {@link MapStatistics#sortedRows}.
     */
    private static void recordRowOrderSort(EmulationFixture fixture, KernelMap map) {
        long[] masks = map.masks();
        long[] keys = new long[map.outputCount()];
        for (int row = 0; row < keys.length; row++) {
            keys[row] = ~masks[row];
        }
        int[] order = map.statistics().sortedRows(0, map.volume());
        long[] sorted = new long[keys.length];
        for (int i = 0; i < order.length; i++) {
            sorted[i] = keys[order[i]];
        }
        RadixSortRecords.rowOrder(fixture, "sort_rows.", keys, map.volume(), sorted, order);
    }

    /** 900 points in two batches, voxelised at 0.25: clusters, isolated voxels and negative cells. */
    private static CoordinateSet randomVoxels(Random random) {
        List<PointCloud> batches = new ArrayList<>();
        for (int b = 0; b < 2; b++) {
            int n = 450;
            float[] x = new float[n];
            float[] y = new float[n];
            float[] z = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (random.nextGaussian() * 2);
                y[i] = (float) (random.nextGaussian() * 2);
                z[i] = (float) (random.nextGaussian() * 0.5);
            }
            batches.add(PointCloud.of(x, y, z));
        }
        VoxelizedCloud voxels = new CpuVoxelizer().voxelize(PointCloud.batchOf(batches),
                Voxelization.cubic(0.25, VoxelReduction.FIRST));
        return CoordinateSet.ofKeys(voxels.keys(), new int[] {1, 1, 1});
    }
}
