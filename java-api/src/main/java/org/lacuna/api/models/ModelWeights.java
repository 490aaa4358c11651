package org.lacuna.api.models;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.lacuna.api.io.Safetensors;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.Int3;

/**
 * Where a network's parameters come from: a safetensors file (or any name → tensor map), or a deterministic random
 * initialisation. Networks ask for each parameter by key and expected shape; a loaded tensor that is missing or of
 * another shape fails naming the key and both shapes. Every parameter handed out is recorded ({@link #taken()}), so
 * a randomly initialised network can be written out and loaded back bit for bit.
 *
 * <p>Random initialisation: convolution and linear weights He-normal (N(0, 2 / fan-in)), biases and batch-norm β
 * and running mean 0, batch-norm γ and running variance 1 (PyTorch's fresh batch norm). Each tensor draws from its
 * own generator seeded by (seed, key), so a parameter's values do not depend on which others were asked for first.
 */
public final class ModelWeights {
    /**
     * The order of the kernel offsets in a loaded [volume, in, out] convolution weight. Lacuna's is x slowest, z
     * fastest ({@link ConvGeometry#offset}). TorchSparse 1.x (the SPVNAS / MinkUNet SemanticKITTI checkpoints)
     * stores odd kernels x fastest, z slowest (MinkowskiEngine's order) and even kernels as Lacuna does.
     */
    public enum KernelOrder {
        LACUNA, TORCHSPARSE_V1
    }

    /** How a parameter is initialised when no file gives it. */
    public enum Init {
        HE_NORMAL, ZEROS, ONES
    }

    private final Map<String, Safetensors.Entry> source;
    private final String sourceName;
    private final long seed;
    private final KernelOrder kernelOrder;
    private final Map<String, Safetensors.Entry> taken = new LinkedHashMap<>();

    private ModelWeights(Map<String, Safetensors.Entry> source, String sourceName, long seed,
                         KernelOrder kernelOrder) {
        this.source = source;
        this.sourceName = sourceName;
        this.seed = seed;
        this.kernelOrder = kernelOrder;
    }

    /**
     * The same source, reading convolution kernels in {@code order} (converted to Lacuna's on the way in, so
     * {@link #taken()} is always in Lacuna's order). Only loaded weights are affected.
     */
    public ModelWeights withKernelOrder(KernelOrder order) {
        if (!taken.isEmpty()) {
            throw InvalidInputException.argument("ModelWeights.withKernelOrder", "parameters were already taken");
        }
        return new ModelWeights(source, sourceName, seed, order);
    }

    /** Deterministic random initialisation from {@code seed}. */
    public static ModelWeights random(long seed) {
        return new ModelWeights(null, "random(seed " + seed + ")", seed, KernelOrder.LACUNA);
    }

    /** Parameters from a safetensors file. */
    public static ModelWeights load(Path safetensors) {
        return of(Safetensors.read(safetensors), safetensors.toString());
    }

    /** Parameters from a name → tensor map; {@code sourceName} is what errors call it. */
    public static ModelWeights of(Map<String, Safetensors.Entry> tensors, String sourceName) {
        if (tensors == null) {
            throw InvalidInputException.argument("ModelWeights.of", "no tensors given");
        }
        return new ModelWeights(Map.copyOf(tensors), sourceName, 0, KernelOrder.LACUNA);
    }

    /**
     * The parameter {@code key} of {@code shape}: from the source (which may also hold it in one of the
     * {@code alsoAccepted} shapes of the same element count, e.g. TorchSparse's [in, out] for a 1×1×1 kernel), or
     * initialised by {@code init} with {@code fanIn} inputs per output.
     */
    public float[] take(String key, Init init, int fanIn, long[] shape, long[]... alsoAccepted) {
        String call = "ModelWeights.take";
        if (taken.containsKey(key)) {
            throw InvalidInputException.argument(call, "parameter '" + key + "' is asked for twice: two layers "
                    + "share one name");
        }
        long count = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        float[] values;
        if (source == null) {
            values = initialise(key, init, fanIn, Math.toIntExact(count));
        } else {
            Safetensors.Entry entry = source.get(key);
            if (entry == null) {
                throw InvalidInputException.argument(call, "tensor '" + key + "' (shape " + Arrays.toString(shape)
                        + ") is missing from " + sourceName);
            }
            boolean fits = Arrays.equals(entry.shape(), shape);
            for (long[] other : alsoAccepted) {
                fits |= Arrays.equals(entry.shape(), other);
            }
            if (!fits) {
                StringBuilder expected = new StringBuilder(Arrays.toString(shape));
                for (long[] other : alsoAccepted) {
                    expected.append(" or ").append(Arrays.toString(other));
                }
                throw InvalidInputException.shape(call, "tensor '" + key + "' in " + sourceName + " has shape "
                        + Arrays.toString(entry.shape()) + " but the model expects " + expected);
            }
            values = entry.values().clone();
        }
        taken.put(key, new Safetensors.Entry(key, "F32", shape.clone(), values.clone()));
        return values;
    }

    /**
     * A convolution weight [volume, in, out] in Lacuna's offset order, He-normal when random; [in, out] is also
     * accepted for a 1×1×1 kernel (TorchSparse stores it so).
     */
    public float[] kernel(String key, ConvGeometry geometry, int in, int out) {
        int volume = geometry.volume();
        long[] shape = {volume, in, out};
        float[] values = volume == 1
                ? take(key, Init.HE_NORMAL, in, shape, new long[] {in, out})
                : take(key, Init.HE_NORMAL, volume * in, shape);
        if (source == null || kernelOrder == KernelOrder.LACUNA || volume % 2 == 0 || volume == 1) {
            return values;
        }
        float[] reordered = fromXFastest(values, geometry.kernelSize(), in * out);
        taken.put(key, new Safetensors.Entry(key, "F32", shape, reordered.clone()));
        return reordered;
    }

    /** Offset (ix, iy, iz) sits at (iz·ky + iy)·kx + ix in an x-fastest layout, (ix·ky + iy)·kz + iz in Lacuna's. */
    static float[] fromXFastest(float[] values, Int3 k, int block) {
        float[] out = new float[values.length];
        for (int ix = 0; ix < k.x(); ix++) {
            for (int iy = 0; iy < k.y(); iy++) {
                for (int iz = 0; iz < k.z(); iz++) {
                    int from = (iz * k.y() + iy) * k.x() + ix;
                    int to = (ix * k.y() + iy) * k.z() + iz;
                    System.arraycopy(values, from * block, out, to * block, block);
                }
            }
        }
        return out;
    }

    private float[] initialise(String key, Init init, int fanIn, int count) {
        float[] values = new float[count];
        switch (init) {
            case ZEROS -> {
            }
            case ONES -> Arrays.fill(values, 1f);
            case HE_NORMAL -> {
                // String.hashCode is specified, so the stream per key is the same on every JVM.
                SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + key.hashCode());
                double std = Math.sqrt(2.0 / Math.max(1, fanIn));
                for (int i = 0; i < count; i++) {
                    values[i] = (float) (gaussian(random) * std);
                }
            }
        }
        return values;
    }

    /** Box–Muller: SplittableRandom has no nextGaussian of its own on every JDK we target. */
    private static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** Every parameter handed out so far, as F32 entries in the order asked: what {@link Safetensors#write} takes. */
    public Map<String, Safetensors.Entry> taken() {
        return java.util.Collections.unmodifiableMap(taken);
    }

    /**
     * Source tensors no layer asked for (PyTorch's {@code num_batches_tracked} counters left out): a non-empty list
     * after building a network usually means a naming mismatch.
     */
    public List<String> unused() {
        List<String> out = new ArrayList<>();
        if (source != null) {
            for (String key : source.keySet()) {
                if (!taken.containsKey(key) && !key.endsWith("num_batches_tracked")) {
                    out.add(key);
                }
            }
        }
        out.sort(null);
        return out;
    }

    public String sourceName() {
        return sourceName;
    }
}
