package org.lacuna.examples;

import java.nio.file.Path;
import org.lacuna.api.Lacuna;
import org.lacuna.api.Session;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.models.LayerTime;
import org.lacuna.api.pointcloud.Segmentation;
import org.lacuna.api.pointcloud.Segmenter;
import org.lacuna.api.pointcloud.SegmenterOptions;
import org.lacuna.runtime.pointcloud.PointCloud;

/** The README's segmentation example, verbatim: compiled and run with the tests. */
public class SegmentExample {
    public static void main(String[] args) {
        PointCloud scan = PointClouds.read(Path.of(args[0])); // KITTI .bin, .pcd, .ply, .npy or .npz
        // 5 cm voxels, SemanticKITTI's MinkUNet (19 classes); seeded random weights unless a file is given.
        SegmenterOptions options = SegmenterOptions.defaults();
        if (args.length > 1) {
            options = options.withWeights(Path.of(args[1])); // safetensors in Lacuna's names
        }
        try (Session session = Lacuna.open();
             Segmenter segmenter = Segmenter.open(session, options)) { // segment() is safe from several threads
            Segmentation result = segmenter.segment(scan);
            int[] labels = result.labels(); // one class per point, in the scan's order
            long[] histogram = result.classCounts();
            System.out.printf("%d points, %d voxels, %d labels, %d classes, %.0f ms on %s%n", scan.size(),
                    result.voxels(), labels.length, histogram.length, result.totalMillis(), result.backend());
            for (LayerTime layer : result.layers()) {
                System.out.println(layer.describe());
            }
        }
    }
}
