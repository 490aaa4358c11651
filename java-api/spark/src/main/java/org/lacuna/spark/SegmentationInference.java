package org.lacuna.spark;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.api.Session;
import org.lacuna.api.io.PointClouds;
import org.lacuna.api.pointcloud.Segmentation;
import org.lacuna.api.pointcloud.Segmenter;
import org.lacuna.api.pointcloud.SegmenterOptions;
import org.lacuna.runtime.error.LacunaException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * Point-cloud segmentation on an executor: one {@link Segmenter} per JVM (which serialises its device work itself,
 * so task threads parse scans and hand out labels concurrently), each scan parsed on its task's thread and
 * segmented on its own (the segmenter takes one cloud per call).
 *
 * @param weights   a safetensors file (a path or a Hadoop URI), empty for seeded random weights
 * @param seed      the random weights' seed
 * @param voxelSize cubic voxel edge in the scan's units
 * @param format    the format of binary input ({@code bin}, {@code pcd}, {@code ply}, {@code npy}, {@code npz});
 *                  a path column's files are read by their own extension
 * @param paths     whether the input column holds paths (strings) rather than the scans' bytes
 */
record SegmentationInference(String weights, long seed, double voxelSize, String format, boolean paths,
                             String backend) implements RowInference<Segmenter, PointCloud> {
    private static final long serialVersionUID = 1L;

    @Override
    public ModelKey modelKey() {
        return new ModelKey("point-cloud-segmentation", weights.isEmpty() ? "random weights (seed " + seed + ")"
                : weights, "voxelSize=" + voxelSize, backend);
    }

    @Override
    public Segmenter load(Session session) {
        SegmenterOptions options = SegmenterOptions.defaults().withVoxelSize(voxelSize).withLayerTimes(false);
        options = weights.isEmpty() ? options.withRandomWeights(seed)
                : options.withWeights(ModelFiles.local(weights));
        return Segmenter.open(session, options);
    }

    @Override
    public boolean modelIsThreadSafe() {
        return true;
    }

    @Override
    public PointCloud prepare(Object input) {
        if (paths) {
            String path = (String) input;
            return PointClouds.read(ModelFiles.readAll(path), path);
        }
        return PointClouds.read((byte[]) input, format);
    }

    @Override
    public List<RowOutcome> infer(Segmenter segmenter, List<PointCloud> clouds) {
        List<RowOutcome> outcomes = new ArrayList<>(clouds.size());
        if (clouds.size() > 1) {
            try { // the whole batch in one forward pass; a bad cloud sends it back to one call per cloud
                for (Segmentation result : segmenter.segmentAll(clouds)) {
                    outcomes.add(RowOutcome.of(result.labels()));
                }
                return outcomes;
            } catch (LacunaException e) {
                if (!PartitionInference.isAboutTheRow(e)) {
                    throw e;
                }
                outcomes.clear();
            }
        }
        for (PointCloud cloud : clouds) {
            try {
                outcomes.add(RowOutcome.of(segmenter.segment(cloud).labels()));
            } catch (LacunaException e) {
                if (!PartitionInference.isAboutTheRow(e)) {
                    throw e;
                }
                outcomes.add(RowOutcome.failed(e.getMessage()));
            }
        }
        return outcomes;
    }
}
