package org.lacuna.runtime.attention;

import org.lacuna.runtime.error.InvalidInputException;

/** What a token selection keeps or drops as a unit: single tokens, or whole windows of an image's patch grid. */
public sealed interface Granularity permits Granularity.Tokens, Granularity.Windows {
    Granularity TOKENS = new Tokens();

    /** Every token is an item of its own. */
    record Tokens() implements Granularity {
    }

    /**
     * SparseViT's granularity: the positions after the pinned prefix lie row-major on a grid {@code gridWidth}
     * wide (the last row may be short), cut into {@code height x width} windows from the top-left. A window scores the
     * mean of its tokens' scores, is pinned if any of its tokens is, and is kept or dropped whole.
     */
    record Windows(int gridWidth, int height, int width) implements Granularity {
        public Windows {
            if (gridWidth <= 0 || height <= 0 || width <= 0) {
                throw InvalidInputException.argument("Granularity.Windows", "grid width " + gridWidth
                        + " and window " + height + "x" + width + " must be positive");
            }
        }

        /** Tokens in one window at most. */
        public int area() {
            return height * Math.min(width, gridWidth);
        }

        /** Non-empty windows of a sequence with {@code gridTokens} tokens on the grid. */
        public int windowsFor(int gridTokens) {
            if (gridTokens <= 0) {
                return 0;
            }
            int gridRows = (gridTokens + gridWidth - 1) / gridWidth;
            int windowCols = (gridWidth + width - 1) / width;
            int windowRows = (gridRows + height - 1) / height;
            int lastRow = windowRows - 1;
            int remaining = gridTokens - lastRow * height * gridWidth;
            return lastRow * windowCols + Math.min(windowCols, (remaining + width - 1) / width);
        }

        /** The window (its index among the sequence's windows) of grid position {@code position}. */
        public int windowOf(int position) {
            int windowCols = (gridWidth + width - 1) / width;
            return (position / gridWidth / height) * windowCols + (position % gridWidth) / width;
        }
    }

    static Windows windows(int gridWidth, int height, int width) {
        return new Windows(gridWidth, height, width);
    }
}
