package org.lacuna.runtime.sparseconv;

import java.util.Objects;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * What a sparse convolution layer asks of its kernel map: kernel size, stride and dilation per axis, and whether it
 * is a transposed (upsampling) convolution. With the input's tensor stride it is the key kernel maps are cached by.
 *
 * <p>Kernel offsets along an axis of kernel size k are {@code -(k-1)/2 .. (k-1)/2} for odd k (centred, as a
 * submanifold convolution needs) and {@code 0 .. k-1} for even k (a k2s2 downsampling gathers the cell that floors
 * to its output), each multiplied by the dilation and by the input's tensor stride.
 */
public record ConvGeometry(Int3 kernelSize, Int3 stride, Int3 dilation, boolean transposed) {
    /** Kernel volumes up to this many offsets are supported (a 7×7×7 kernel has 343). */
    public static final int MAX_VOLUME = 4096;

    public ConvGeometry {
        Objects.requireNonNull(kernelSize, "kernelSize");
        Objects.requireNonNull(stride, "stride");
        Objects.requireNonNull(dilation, "dilation");
        String call = "ConvGeometry";
        Int3.positive(call, "kernel size", kernelSize.toArray());
        Int3.positive(call, "stride", stride.toArray());
        Int3.positive(call, "dilation", dilation.toArray());
        if (kernelSize.product() > MAX_VOLUME) {
            throw InvalidInputException.argument(call, "kernel " + kernelSize + " has " + kernelSize.product()
                    + " offsets; at most " + MAX_VOLUME + " are supported");
        }
        if (stride.allOne() && transposed) {
            throw InvalidInputException.argument(call, "a transposed convolution needs a stride above 1 on some axis;"
                    + " with stride 1 use a submanifold convolution");
        }
        if (stride.allOne()) {
            for (int axis = 0; axis < 3; axis++) {
                if (kernelSize.get(axis) % 2 == 0) {
                    throw InvalidInputException.argument(call, "a submanifold convolution (stride 1) needs an odd "
                            + "kernel size on every axis so that each output is the centre of its kernel; got "
                            + kernelSize);
                }
            }
        }
    }

    /** Stride 1: the output coordinates are the input coordinates. */
    public static ConvGeometry submanifold(Int3 kernelSize, Int3 dilation) {
        return new ConvGeometry(kernelSize, Int3.cubic(1), dilation, false);
    }

    public static ConvGeometry submanifold(int kernelSize) {
        return submanifold(Int3.cubic(kernelSize), Int3.cubic(1));
    }

    /** Downsampling: outputs are the input coordinates floored to the new tensor stride. */
    public static ConvGeometry strided(Int3 kernelSize, Int3 stride, Int3 dilation) {
        return new ConvGeometry(kernelSize, stride, dilation, false);
    }

    public static ConvGeometry strided(int kernelSize, int stride) {
        return strided(Int3.cubic(kernelSize), Int3.cubic(stride), Int3.cubic(1));
    }

    /** Upsampling back onto the coordinates a {@link #strided} convolution of the same geometry came from. */
    public static ConvGeometry transposed(Int3 kernelSize, Int3 stride, Int3 dilation) {
        return new ConvGeometry(kernelSize, stride, dilation, true);
    }

    public static ConvGeometry transposed(int kernelSize, int stride) {
        return transposed(Int3.cubic(kernelSize), Int3.cubic(stride), Int3.cubic(1));
    }

    public boolean isSubmanifold() {
        return stride.allOne();
    }

    /** The number of kernel offsets. */
    public int volume() {
        return (int) kernelSize.product();
    }

    /** The geometry of the downsampling a transposed convolution undoes, and vice versa. */
    public ConvGeometry inverse() {
        return new ConvGeometry(kernelSize, stride, dilation, !transposed);
    }

    /**
     * Offset {@code index} (x slowest, z fastest) in kernel units along each axis, before dilation and tensor stride:
     * the same enumeration the GPU map builder and the weight layout {@code [volume, in, out]} use.
     */
    public Int3 offset(int index) {
        int kz = kernelSize.z();
        int ky = kernelSize.y();
        int ix = index / (ky * kz);
        int iy = index / kz % ky;
        int iz = index % kz;
        return new Int3(first(kernelSize.x()) + ix, first(ky) + iy, first(kz) + iz);
    }

    /**
     * [volume, 3]: each offset's step in coordinate units, offset × dilation × {@code tensorStride} (the input's,
     * or for a transposed map the output's), as the map builders on either side add it.
     */
    public int[] deltas(Int3 tensorStride) {
        Int3 step = dilation.times(tensorStride);
        int[] out = new int[3 * volume()];
        for (int v = 0; v < volume(); v++) {
            Int3 o = offset(v);
            out[3 * v] = Math.multiplyExact(o.x(), step.x());
            out[3 * v + 1] = Math.multiplyExact(o.y(), step.y());
            out[3 * v + 2] = Math.multiplyExact(o.z(), step.z());
        }
        return out;
    }

    /** The first offset along an axis of kernel size k. */
    static int first(int k) {
        return k % 2 == 1 ? -(k - 1) / 2 : 0;
    }

    @Override
    public String toString() {
        return (transposed ? "transposed " : isSubmanifold() ? "submanifold " : "strided ") + "k" + kernelSize
                + " s" + stride + " d" + dilation;
    }
}
