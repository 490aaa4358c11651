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
