package org.lacuna.runtime.sparseconv;

import java.util.Arrays;

/**
 * A dense 3-D convolution, written independently of the kernel-map code: inputs scattered into a dense grid (zero
 * where there is no point), every position of the output grid computed from the kernel offsets, then read at the
 * output coordinates. Small grids only; the test's ground truth.
 */
public final class DenseConvolution {
    private DenseConvolution() {
    }

    /**
     * @param inputs  [N, 4] (batch, x, y, z) at input tensor stride
     * @param x       [N, in]
     * @param w       [volume, in, out], offsets x slowest, z fastest; offsets -(k-1)/2..(k-1)/2 for odd k, 0..k-1 even
     * @param step    grid distance of one kernel offset per axis: dilation × (input tensor stride, or for a
     *                transposed convolution the output tensor stride)
     * @param transposed whether outputs gather from {@code q - offset} rather than {@code q + offset}
     * @param outputs [M, 4] where to read the result
     * @return [M, out] in double, before any activation or bias
     */
    public static double[] convolve(int[] inputs, float[] x, int in, float[] w, int out, int[] kernel, int[] step,
                                    boolean transposed, int[] outputs) {
        int[] lo = new int[4];
        int[] hi = new int[4];
        Arrays.fill(lo, Integer.MAX_VALUE);
        Arrays.fill(hi, Integer.MIN_VALUE);
        for (int[] coords : new int[][] {inputs, outputs}) {
            for (int r = 0; r < coords.length / 4; r++) {
                for (int a = 0; a < 4; a++) {
                    lo[a] = Math.min(lo[a], coords[4 * r + a]);
                    hi[a] = Math.max(hi[a], coords[4 * r + a]);
                }
            }
        }
        int[] reach = new int[4];
        for (int a = 1; a < 4; a++) {
            reach[a] = kernel[a - 1] * step[a - 1];
        }
        int[] origin = new int[4];
        int[] extent = new int[4];
        for (int a = 0; a < 4; a++) {
            origin[a] = lo[a] - reach[a];
            extent[a] = hi[a] - lo[a] + 2 * reach[a] + 1;
        }
        double[] grid = new double[extent[0] * extent[1] * extent[2] * extent[3] * in];
        for (int r = 0; r < inputs.length / 4; r++) {
            int cell = cell(inputs, r, origin, extent);
            for (int k = 0; k < in; k++) {
                grid[cell * in + k] = x[r * in + k];
            }
        }
        // The whole dense output over the box the outputs span, on the grid the outputs lie on.
        int[] box = new int[4];
        for (int a = 0; a < 4; a++) {
            box[a] = hi[a] - lo[a] + 1;
        }
        double[] dense = new double[box[0] * box[1] * box[2] * box[3] * out];
        int sign = transposed ? -1 : 1;
        for (int b = 0; b < box[0]; b++) {
            for (int qx = 0; qx < box[1]; qx++) {
                for (int qy = 0; qy < box[2]; qy++) {
                    for (int qz = 0; qz < box[3]; qz++) {
                        int denseCell = ((b * box[1] + qx) * box[2] + qy) * box[3] + qz;
                        int v = 0;
                        for (int ox = first(kernel[0]); ox < first(kernel[0]) + kernel[0]; ox++) {
                            for (int oy = first(kernel[1]); oy < first(kernel[1]) + kernel[1]; oy++) {
                                for (int oz = first(kernel[2]); oz < first(kernel[2]) + kernel[2]; oz++, v++) {
                                    int gb = lo[0] + b - origin[0];
                                    int gx = lo[1] + qx + sign * ox * step[0] - origin[1];
                                    int gy = lo[2] + qy + sign * oy * step[1] - origin[2];
                                    int gz = lo[3] + qz + sign * oz * step[2] - origin[3];
                                    int cell = ((gb * extent[1] + gx) * extent[2] + gy) * extent[3] + gz;
                                    for (int k = 0; k < in; k++) {
                                        double xv = grid[cell * in + k];
                                        if (xv == 0) {
                                            continue;
                                        }
                                        for (int c = 0; c < out; c++) {
                                            dense[denseCell * out + c] += xv * w[(v * in + k) * out + c];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        double[] result = new double[outputs.length / 4 * out];
        for (int r = 0; r < outputs.length / 4; r++) {
            int denseCell = (((outputs[4 * r] - lo[0]) * box[1] + outputs[4 * r + 1] - lo[1]) * box[2]
                    + outputs[4 * r + 2] - lo[2]) * box[3] + outputs[4 * r + 3] - lo[3];
            System.arraycopy(dense, denseCell * out, result, r * out, out);
        }
        return result;
    }

    static int first(int k) {
        return k % 2 == 1 ? -(k - 1) / 2 : 0;
    }

    private static int cell(int[] coords, int r, int[] origin, int[] extent) {
        return (((coords[4 * r] - origin[0]) * extent[1] + coords[4 * r + 1] - origin[1]) * extent[2]
                + coords[4 * r + 2] - origin[2]) * extent[3] + coords[4 * r + 3] - origin[3];
    }
}
