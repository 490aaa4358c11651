package org.lacuna.runtime.ops;

import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * The dense grid of a bird's-eye view: {@code cells} = (X, Y, Z) cells of the input's tensor stride, starting at
 * {@code origin} (in stride-1 units). A coordinate (b, x, y, z) at tensor stride s lands in cell
 * (⌊(x − ox) / s⌋, ⌊(y − oy) / s⌋, ⌊(z − oz) / s⌋).
 */
public record BevGrid(Int3 origin, Int3 cells) {
    public BevGrid {
        if (origin == null) {
            throw InvalidInputException.argument("BevGrid", "origin is required");
        }
        if (cells == null || cells.x() < 1 || cells.y() < 1 || cells.z() < 1) {
            throw InvalidInputException.argument("BevGrid", "grid extent " + cells + " must be positive on every axis");
        }
        if (cells.product() > Integer.MAX_VALUE / 4) {
            throw InvalidInputException.argument("BevGrid", "grid extent " + cells + " is too large for one dense map");
        }
    }

    /** The cell index along {@code axis} of coordinate {@code value} at tensor stride {@code stride}. */
    public long cell(int axis, int value, int stride) {
        return Math.floorDiv((long) value - origin.get(axis), stride);
    }

    /** Whether a cell index is inside the grid along {@code axis}. */
    public boolean contains(int axis, long cell) {
        return cell >= 0 && cell < cells.get(axis);
    }

    /** The channels of the dense map for {@code inputChannels} input channels. */
    public long outputChannels(long inputChannels, BevReduction reduction) {
        return reduction == BevReduction.STACK_Z ? inputChannels * cells.z() : inputChannels;
    }
}
