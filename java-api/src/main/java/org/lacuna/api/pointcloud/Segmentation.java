package org.lacuna.api.pointcloud;

import java.util.List;
import org.lacuna.api.models.LayerTime;

/**
 * What a {@link Segmenter} made of one scan: a class per point, the class histogram, and how the work ran.
 *
 * @param labels          one class in [0, classes) per input point, in the cloud's order; {@value #NO_LABEL} for a
 *                        point with a NaN or infinite coordinate (voxelisation drops those)
 * @param classCounts     points per class, {@code classes} entries (unlabelled points are not counted)
 * @param voxels          occupied voxels the network ran on
 * @param backend         the backend that ran the voxeliser and the network ({@code cpu}, {@code cuda})
 * @param device          the device it ran on, in words
 * @param weights         where the weights came from: a file, or {@code random(seed N)}
 * @param layers          the network's steps with their times and plans (empty unless timed)
 * @param voxelizeMillis  voxelisation and upload
 * @param networkMillis   the forward pass
 * @param labelMillis     download of the logits, arg-max per voxel and back to the points (on the host)
 */
public record Segmentation(int[] labels, long[] classCounts, int voxels, String backend, String device,
                           String weights, List<LayerTime> layers, double voxelizeMillis, double networkMillis,
                           double labelMillis) {
    /** The label of a point that could not be voxelised (a non-finite coordinate). */
    public static final int NO_LABEL = -1;

    public Segmentation {
        labels = labels.clone();
        classCounts = classCounts.clone();
        layers = List.copyOf(layers);
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public long[] classCounts() {
        return classCounts.clone();
    }

    public int points() {
        return labels.length;
    }

    public int classes() {
        return classCounts.length;
    }

    /** Points with a label (all but those with non-finite coordinates). */
    public long labelledPoints() {
        long sum = 0;
        for (long count : classCounts) {
            sum += count;
        }
        return sum;
    }

    public double totalMillis() {
        return voxelizeMillis + networkMillis + labelMillis;
    }
}
