package org.lacuna.bench.jmh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.lacuna.api.io.KittiBinReader;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.cpu.CpuVoxelizer;
import org.lacuna.runtime.pointcloud.PointCloud;
import org.lacuna.runtime.pointcloud.VoxelReduction;
import org.lacuna.runtime.pointcloud.Voxelization;
import org.lacuna.runtime.pointcloud.VoxelizedCloud;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The CPU voxeliser on the real KITTI sweep (120,610 points; {@code ../shared/data} beside the repository, or
 * {@code -Dlacuna.kitti=PATH}) and on a synthetic sweep of the same size, at the voxel sizes the tests check, with
 * the serving CPU backend's worker threads ({@code parallel}: its voxelisation op) and with one thread. The CPU voxeliser is the reference every GPU voxelisation is checked
 * against and the fallback without a GPU, so its time bounds both. Where the KITTI file is absent its cases fail
 * in setup with a message saying where it was looked for; the synthetic cases still run.
 */
public class VoxelizerBenchmark extends CpuBenchmarkSettings {
    static final String SWEEP = "shared/data/kitti-velodyne-000001.bin";

    @Param({"kitti", "synthetic"})
    String cloud;

    @Param({"0.05", "0.2"})
    double voxelSize;

    @Param({"parallel", "sequential"})
    String threads;

    PointCloud points;
    Backend backend;
    BiFunction<PointCloud, Voxelization, VoxelizedCloud> voxelizer;
    Voxelization voxelization;

    @Setup
    public void setUp() {
        points = cloud.equals("kitti") ? kittiSweep() : syntheticSweep(120_610, 1);
        if (threads.equals("parallel")) {
            backend = new CpuBackendProvider().open(0);
            voxelizer = backend.ops().voxelization()::voxelize;
        } else {
            voxelizer = CpuVoxelizer.sequential()::voxelize;
        }
        voxelization = Voxelization.cubic(voxelSize, VoxelReduction.MEAN);
    }

    @TearDown
    public void tearDown() {
        if (backend != null) {
            backend.close();
        }
    }

    @Benchmark
    public VoxelizedCloud voxelize() {
        return voxelizer.apply(points, voxelization);
    }

    /** JMH forks run in the directory it was started from: the repository root, or a module beside it. */
    static PointCloud kittiSweep() {
        String given = System.getProperty("lacuna.kitti");
        List<Path> candidates = given != null ? List.of(Path.of(given))
                : List.of(Path.of("..").resolve(SWEEP), Path.of("../..").resolve(SWEEP));
        for (Path candidate : candidates) {
            if (Files.isRegularFile(candidate)) {
                return KittiBinReader.read(candidate);
            }
        }
        throw new IllegalStateException("the KITTI sweep is not at " + candidates.stream()
                .map(p -> p.toAbsolutePath().normalize().toString()).toList() + "; it lives in ../shared/data beside"
                + " the repository (see its README), or pass -Dlacuna.kitti=PATH. The synthetic cases still run.");
    }

    /** Rings of a spinning 64-beam LiDAR over a ground plane with boxes, roughly a KITTI sweep's spread. */
    static PointCloud syntheticSweep(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[] intensity = new float[n];
        for (int i = 0; i < n; i++) {
            double azimuth = random.nextDouble(0, 2 * Math.PI);
            double elevation = Math.toRadians(-24.9 + 26.9 * (i % 64) / 63.0);
            double range = elevation < 0 ? Math.min(80, 1.73 / -Math.tan(elevation)) : random.nextDouble(5, 80);
            range *= 1 + random.nextDouble(-0.01, 0.01);
            x[i] = (float) (range * Math.cos(azimuth) * Math.cos(elevation));
            y[i] = (float) (range * Math.sin(azimuth) * Math.cos(elevation));
            z[i] = (float) (range * Math.sin(elevation));
            intensity[i] = (float) random.nextDouble();
        }
        return PointCloud.of(x, y, z, List.of("reflectance"), new float[][] {intensity});
    }
}
