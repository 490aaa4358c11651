package org.lacuna.runtime.cpu;

import java.util.SplittableRandom;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.ops.Activation;

/**
 * What {@link CpuWithoutJvmFlagsTest} runs in a JVM started as a plain Maven user starts it (no --add-modules, no
 * --enable-native-access): prints what the backend reports, then runs a linear layer, an elementwise op and
 * attention on the serving backend and on the reference, and exits non-zero if they disagree.
 */
public final class PlainJvmProbe {
    private PlainJvmProbe() {
    }

    public static void main(String[] args) {
        System.out.println("vector module: " + CpuCapabilities.vectorApiAvailable());
        System.out.println("probe: " + new CpuBackendProvider().probe().reason());
        SplittableRandom random = new SplittableRandom(7);
        try (Backend cpu = new CpuBackendProvider().open(0); Backend reference = new ReferenceBackendProvider().open(0)) {
            int tokens = 5;
            int in = 37;
            int out = 19;
            float[] x = values(random, tokens * in, DType.F16);
            float[] w = values(random, out * in, DType.F16);
            float[] bias = values(random, out, DType.F32);
            float[][] linear = new float[2][];
            Backend[] backends = {cpu, reference};
            for (int b = 0; b < 2; b++) {
                Backend backend = backends[b];
                DeviceArray xs = HostData.upload(backend, DType.F16, Shape.of(tokens, in), x);
                DeviceArray ws = DeviceWeights.uploadDense(backend, w, out, in, DType.F16);
                DeviceArray bs = HostData.upload(backend, DType.F32, Shape.of(out), bias);
                DeviceArray ys = HostData.upload(backend, DType.F32, Shape.of(tokens, out), new float[tokens * out]);
                DeviceArray gelu = HostData.upload(backend, DType.BF16, Shape.of(tokens, out), new float[tokens * out]);
                backend.ops().gemm().linearDense(xs, ws, bs, Activation.NONE, ys);
                backend.ops().elementwise().biasActivation(ys, bs, Activation.GELU, gelu);
                linear[b] = concat(HostData.downloadFloats(backend, ys), HostData.downloadFloats(backend, gelu));
            }
            compare("linear + bias GELU", linear[0], linear[1], 2e-2);

            int heads = 2;
            int headDim = 64;
            int width = heads * headDim;
            int[] offsets = {0, 7, 10};
            int rows = offsets[offsets.length - 1];
            float[] qkv = values(random, rows * 3 * width, DType.F16);
            float[][] attention = new float[2][];
            for (int b = 0; b < 2; b++) {
                Backend backend = backends[b];
                SequenceBatch batch = new SequenceBatch(HostData.upload(backend, Shape.of(offsets.length), offsets), rows, 7);
                DeviceArray packed = HostData.upload(backend, DType.F16, Shape.of(rows, 3L * width), qkv);
                DeviceArray result = HostData.upload(backend, DType.F16, Shape.of(rows, width), new float[rows * width]);
                backend.ops().attention().attention(AttentionInputs.packed(packed), batch,
                        AttentionOptions.of(heads, headDim).withCausal(true), result, null);
                attention[b] = HostData.downloadFloats(backend, result);
            }
            compare("causal attention", attention[0], attention[1], 4e-3);
        }
        System.out.println("plain JVM probe: OK");
    }

    private static float[] values(SplittableRandom random, int count, DType dtype) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = org.lacuna.runtime.data.HalfFloats.roundTo(dtype, (float) random.nextDouble(-1, 1));
        }
        return v;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static void compare(String what, float[] got, float[] expected, double tolerance) {
        for (int i = 0; i < got.length; i++) {
            if (!(Math.abs(got[i] - expected[i]) <= tolerance)) {
                System.out.println(what + ": element " + i + " is " + got[i] + ", the reference says " + expected[i]);
                System.exit(1);
            }
        }
        System.out.println(what + ": matches the reference (" + got.length + " values)");
    }
}
