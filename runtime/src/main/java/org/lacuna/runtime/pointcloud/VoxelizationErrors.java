package org.lacuna.runtime.pointcloud;

import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.error.InvalidInputException;

/** The errors every {@link org.lacuna.runtime.ops.VoxelizationOps} raises, worded once so the CPU and GPU voxelisers fail alike. */
public final class VoxelizationErrors {
    public static final String CALL = "VoxelizationOps.voxelize";

    private VoxelizationErrors() {
    }

    /** The checks every voxeliser makes before any work: both arguments given, and at least one point. */
    public static void requireInput(PointCloud cloud, Voxelization voxelization) {
        if (cloud == null || voxelization == null) {
            throw InvalidInputException.argument(CALL, (cloud == null ? "the point cloud" : "the voxelization")
                    + " is null");
        }
        if (cloud.isEmpty()) {
            throw emptyCloud();
        }
    }

    /**
     * {@link #requireInput}, and for {@link org.lacuna.runtime.ops.VoxelizationOps#voxelizeResident} the features:
     * a selection given, a floating-point feature type, and channels to select where the selection is the channels.
     */
    public static void requireResidentInput(PointCloud cloud, Voxelization voxelization, VoxelFeatures features,
                                            DType featureType) {
        requireInput(cloud, voxelization);
        if (features == null || featureType == null) {
            throw InvalidInputException.argument(CALL, (features == null ? "the feature selection" : "the feature type")
                    + " is null");
        }
        if (!featureType.isFloatingPoint()) {
            throw InvalidInputException.dtype(CALL, "features must be F32, F16 or BF16, not " + featureType);
        }
        if (features == VoxelFeatures.CHANNELS && cloud.channelCount() == 0) {
            throw noChannels(CALL);
        }
    }

    /** The selection {@link VoxelFeatures#CHANNELS} of a cloud without channels. */
    static InvalidInputException noChannels(String call) {
        return InvalidInputException.shape(call, "the cloud has no channels to use as features; use POSITIONS, "
                + "POSITIONS_AND_CHANNELS or OCCUPANCY");
    }

    public static InvalidInputException emptyCloud() {
        return InvalidInputException.argument(CALL, "the point cloud is empty: there is nothing to voxelise");
    }

    /** Why point {@code point} has no voxel: a non-finite coordinate, else one outside the key's range. */
    public static InvalidInputException invalidPoint(PointCloud cloud, int point, Voxelization voxelization) {
        float[] p = {cloud.x(point), cloud.y(point), cloud.z(point)};
        String[] axes = {"x", "y", "z"};
        for (int a = 0; a < 3; a++) {
            if (!Float.isFinite(p[a])) {
                return InvalidInputException.argument(CALL, "point " + point + " has " + axes[a] + " = " + p[a]
                        + ": voxelisation needs finite coordinates (PointCloud.finitePoints() drops such points)");
            }
        }
        for (int a = 0; a < 3; a++) {
            double size = voxelization.size(a);
            double cell = Voxelization.cell(p[a], size);
            if (!(cell >= CoordinateKey.MIN_COORDINATE && cell <= CoordinateKey.MAX_COORDINATE)) {
                return InvalidInputException.argument(CALL, "point " + point + " has " + axes[a] + " = " + p[a]
                        + ", in voxel " + (long) cell + " at voxel size " + size + ", outside the representable range ["
                        + CoordinateKey.MIN_COORDINATE + ", " + CoordinateKey.MAX_COORDINATE + "] ("
                        + CoordinateKey.COORDINATE_BITS + "-bit signed voxel coordinates): at this voxel size "
                        + axes[a] + " must lie in [" + CoordinateKey.MIN_COORDINATE * size + ", "
                        + (CoordinateKey.MAX_COORDINATE + 1L) * size + ")");
            }
        }
        throw new IllegalStateException("point " + point + " was reported invalid, but it is valid");
    }
}
