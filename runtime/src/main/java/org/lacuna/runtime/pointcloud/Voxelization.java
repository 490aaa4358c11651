package org.lacuna.runtime.pointcloud;

import java.util.Objects;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * How to voxelise: the voxel edge per axis (in the cloud's units, metres for LiDAR) and the reduction per voxel.
 * A point p lies in voxel {@code floor((double) p / size)} on each axis; the division is in double and the sizes are
 * doubles so that every backend, CPU or GPU, computes the same voxel for the same float coordinate.
 */
public record Voxelization(double sizeX, double sizeY, double sizeZ, VoxelReduction reduction) {
    public Voxelization {
        checkSize("x", sizeX);
        checkSize("y", sizeY);
        checkSize("z", sizeZ);
        Objects.requireNonNull(reduction, "reduction");
    }

    /** Cubic voxels of edge {@code size}. */
    public static Voxelization cubic(double size, VoxelReduction reduction) {
        return new Voxelization(size, size, size, reduction);
    }

    /**
     * The key of the voxel of the point (x, y, z) of sample {@code batch}: what every voxeliser computes per point
     * (so a point's voxel can be found again on the host), or {@link CoordinateKey#EMPTY} if a coordinate is
     * non-finite or its voxel outside the key range.
     */
    public static long key(int batch, float x, float y, float z, double sizeX, double sizeY, double sizeZ) {
        double cx = cell(x, sizeX);
        double cy = cell(y, sizeY);
        double cz = cell(z, sizeZ);
        // Written so that NaN (and the infinities, which floor to themselves) fail the test.
        if (inKeyRange(cx) && inKeyRange(cy) && inKeyRange(cz)) {
            return CoordinateKey.packInRange(batch, (int) cx, (int) cy, (int) cz);
        }
        return CoordinateKey.EMPTY;
    }

    /** {@link #key(int, float, float, float, double, double, double)} at this voxelisation's sizes. */
    public long key(int batch, float x, float y, float z) {
        return key(batch, x, y, z, sizeX, sizeY, sizeZ);
    }

    private static boolean inKeyRange(double cell) {
        return cell >= CoordinateKey.MIN_COORDINATE && cell <= CoordinateKey.MAX_COORDINATE;
    }

    /** The voxel index of {@code coordinate} along an axis with voxel edge {@code size}; NaN for NaN input. */
    public static double cell(float coordinate, double size) {
        return Math.floor(coordinate / size);
    }

    double size(int axis) {
        return switch (axis) {
            case 0 -> sizeX;
            case 1 -> sizeY;
            case 2 -> sizeZ;
            default -> throw new IllegalArgumentException("axis " + axis);
        };
    }

    private static void checkSize(String axis, double size) {
        if (!(size > 0) || !Double.isFinite(size)) {
            throw InvalidInputException.argument("Voxelization", "voxel size along " + axis + " is " + size
                    + "; it must be finite and positive");
        }
    }
}
