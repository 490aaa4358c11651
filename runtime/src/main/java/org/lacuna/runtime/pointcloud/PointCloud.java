package org.lacuna.runtime.pointcloud;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * Raw points on the host: x, y, z as floats, any number of named extra channels (intensity, reflectance, colour) and
 * a batch index per point. Immutable; arrays are copied in and out. Non-finite coordinates are allowed here because
 * real files hold them (organised PCD clouds mark missing returns with NaN); the voxeliser rejects them, and
 * {@link #finitePoints()} drops them explicitly.
 */
public final class PointCloud {
    private final float[] x;
    private final float[] y;
    private final float[] z;
    private final List<String> channelNames;
    private final float[][] channels;
    /** Per-point batch index, or null when every point is in {@link #uniformBatch}. */
    private final int[] batch;
    private final int uniformBatch;

    private PointCloud(float[] x, float[] y, float[] z, List<String> channelNames, float[][] channels, int[] batch,
                       int uniformBatch) {
        this.x = x;
        this.y = y;
        this.z = z;
        this.channelNames = channelNames;
        this.channels = channels;
        this.batch = batch;
        this.uniformBatch = uniformBatch;
    }

    /** A cloud of positions only, in batch 0. */
    public static PointCloud of(float[] x, float[] y, float[] z) {
        return of(x, y, z, List.of(), new float[0][]);
    }

    /**
     * A cloud in batch 0 with extra channels: {@code channels[c]} holds channel {@code channelNames.get(c)} for every
     * point. Every array must have one value per point.
     */
    public static PointCloud of(float[] x, float[] y, float[] z, List<String> channelNames, float[][] channels) {
        String call = "PointCloud.of";
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        Objects.requireNonNull(z, "z");
        Objects.requireNonNull(channelNames, "channelNames");
        Objects.requireNonNull(channels, "channels");
        int n = x.length;
        requireLength(call, "y", y.length, n);
        requireLength(call, "z", z.length, n);
        List<String> names = checkChannelNames(call, channelNames);
        if (channels.length != names.size()) {
            throw InvalidInputException.shape(call, names.size() + " channel names but " + channels.length
                    + " channel arrays");
        }
        float[][] copies = new float[channels.length][];
        for (int c = 0; c < channels.length; c++) {
            if (channels[c] == null) {
                throw InvalidInputException.argument(call, "channel '" + names.get(c) + "' is null");
            }
            requireLength(call, "channel '" + names.get(c) + "'", channels[c].length, n);
            copies[c] = channels[c].clone();
        }
        return new PointCloud(x.clone(), y.clone(), z.clone(), names, copies, null, 0);
    }

    /**
     * One cloud holding every sample, sample {@code i} in batch {@code i}: the input of a batched voxelisation.
     * All samples must have the same channels in the same order.
     */
    public static PointCloud batchOf(List<PointCloud> samples) {
        String call = "PointCloud.batchOf";
        if (samples.isEmpty()) {
            throw InvalidInputException.argument(call, "no samples");
        }
        if (samples.size() - 1 > CoordinateKey.MAX_BATCH) {
            throw InvalidInputException.argument(call, samples.size() + " samples, but batch indices stop at "
                    + CoordinateKey.MAX_BATCH);
        }
        List<String> names = samples.getFirst().channelNames;
        long total = 0;
        for (int s = 0; s < samples.size(); s++) {
            PointCloud sample = samples.get(s);
            if (!sample.channelNames.equals(names)) {
                throw InvalidInputException.shape(call, "sample " + s + " has channels " + sample.channelNames
                        + " but sample 0 has " + names);
            }
            total += sample.size();
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw InvalidInputException.argument(call, total + " points do not fit Java arrays");
        }
        int n = (int) total;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] z = new float[n];
        float[][] channels = new float[names.size()][n];
        int[] batch = new int[n];
        int at = 0;
        for (int s = 0; s < samples.size(); s++) {
            PointCloud sample = samples.get(s);
            int m = sample.size();
            System.arraycopy(sample.x, 0, x, at, m);
            System.arraycopy(sample.y, 0, y, at, m);
            System.arraycopy(sample.z, 0, z, at, m);
            for (int c = 0; c < names.size(); c++) {
                System.arraycopy(sample.channels[c], 0, channels[c], at, m);
            }
            Arrays.fill(batch, at, at + m, s);
            at += m;
        }
        return new PointCloud(x, y, z, names, channels, batch, 0);
    }

    /** This cloud with every point in batch {@code batchIndex}. */
    public PointCloud withBatch(int batchIndex) {
        if (batchIndex < 0 || batchIndex > CoordinateKey.MAX_BATCH) {
            throw InvalidInputException.argument("PointCloud.withBatch", "batch " + batchIndex + " is outside [0, "
                    + CoordinateKey.MAX_BATCH + "]");
        }
        return new PointCloud(x, y, z, channelNames, channels, null, batchIndex);
    }

    /** This cloud without the points that have a NaN or infinite coordinate; channels and batches stay aligned. */
    public PointCloud finitePoints() {
        return points(finiteIndices());
    }

    /** The indices, ascending, of the points whose coordinates are all finite. */
    public int[] finiteIndices() {
        int kept = 0;
        int[] keep = new int[size()];
        for (int i = 0; i < size(); i++) {
            if (Float.isFinite(x[i]) && Float.isFinite(y[i]) && Float.isFinite(z[i])) {
                keep[kept++] = i;
            }
        }
        return kept == keep.length ? keep : Arrays.copyOf(keep, kept);
    }

    /**
     * The points at {@code indices} (ascending, from {@link #finiteIndices()} or alike), channels and batches
     * aligned; this cloud itself when they are all of its points.
     */
    public PointCloud points(int[] indices) {
        int kept = indices.length;
        if (kept == size()) {
            return this;
        }
        float[][] keptChannels = new float[channels.length][];
        for (int c = 0; c < channels.length; c++) {
            keptChannels[c] = select(channels[c], indices, kept);
        }
        int[] keptBatch = null;
        if (batch != null) {
            keptBatch = new int[kept];
            for (int k = 0; k < kept; k++) {
                keptBatch[k] = batch[indices[k]];
            }
        }
        return new PointCloud(select(x, indices, kept), select(y, indices, kept), select(z, indices, kept),
                channelNames, keptChannels, keptBatch, uniformBatch);
    }

    public int size() {
        return x.length;
    }

    public boolean isEmpty() {
        return x.length == 0;
    }

    public float x(int point) {
        return x[point];
    }

    public float y(int point) {
        return y[point];
    }

    public float z(int point) {
        return z[point];
    }

    public float[] xs() {
        return x.clone();
    }

    public float[] ys() {
        return y.clone();
    }

    public float[] zs() {
        return z.clone();
    }

    public int batchIndex(int point) {
        return batch == null ? uniformBatch : batch[point];
    }

    /** Every point's batch index. */
    public int[] batchIndices() {
        if (batch != null) {
            return batch.clone();
        }
        int[] all = new int[size()];
        Arrays.fill(all, uniformBatch);
        return all;
    }

    public List<String> channelNames() {
        return channelNames;
    }

    public int channelCount() {
        return channels.length;
    }

    public float channelValue(int channel, int point) {
        return channels[channel][point];
    }

    public float[] channel(int channel) {
        return channels[channel].clone();
    }

    /** The named channel's values; fails listing the channels there are. */
    public float[] channel(String name) {
        int c = channelNames.indexOf(name);
        if (c < 0) {
            throw InvalidInputException.argument("PointCloud.channel", "no channel '" + name + "'; the cloud has "
                    + channelNames);
        }
        return channel(c);
    }

    /** Smallest and largest finite coordinate per axis; NaN bounds for a cloud without finite points. */
    public Bounds bounds() {
        float[] min = {Float.NaN, Float.NaN, Float.NaN};
        float[] max = {Float.NaN, Float.NaN, Float.NaN};
        float[][] axes = {x, y, z};
        for (int a = 0; a < 3; a++) {
            for (float v : axes[a]) {
                if (Float.isFinite(v)) {
                    min[a] = Float.isNaN(min[a]) ? v : Math.min(min[a], v);
                    max[a] = Float.isNaN(max[a]) ? v : Math.max(max[a], v);
                }
            }
        }
        return new Bounds(min[0], max[0], min[1], max[1], min[2], max[2]);
    }

    /** Axis-aligned extent of a cloud. */
    public record Bounds(float minX, float maxX, float minY, float maxY, float minZ, float maxZ) {
    }

    @Override
    public String toString() {
        return "PointCloud[" + size() + " points" + (channelNames.isEmpty() ? "" : ", channels " + channelNames) + "]";
    }

    private static float[] select(float[] values, int[] keep, int kept) {
        float[] out = new float[kept];
        for (int k = 0; k < kept; k++) {
            out[k] = values[keep[k]];
        }
        return out;
    }

    private static void requireLength(String call, String what, int length, int points) {
        if (length != points) {
            throw InvalidInputException.shape(call, what + " has " + length + " values but x has " + points
                    + ": every channel needs one value per point");
        }
    }

    private static List<String> checkChannelNames(String call, List<String> names) {
        Set<String> seen = new HashSet<>();
        List<String> copy = new ArrayList<>(names.size());
        for (String name : names) {
            if (name == null || name.isBlank()) {
                throw InvalidInputException.argument(call, "a channel name is blank: " + names);
            }
            if (!seen.add(name)) {
                throw InvalidInputException.argument(call, "channel '" + name + "' appears twice in " + names);
            }
            copy.add(name);
        }
        return List.copyOf(copy);
    }
}
