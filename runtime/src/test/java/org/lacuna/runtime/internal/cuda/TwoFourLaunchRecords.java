package org.lacuna.runtime.internal.cuda;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.lacuna.kernels.KernelSources;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.lifetime.Closer;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Records, into a 2:4 GEMM fixture, the launch {@link TwoFourLaunches} makes for it in every declared variant of
 * {@code two_four_gemm.cu} and {@code two_four_gemm_sm90.cu} that can run it (its input type; K_ALIGNED=1 only when K
 * is a multiple of 8), under the prefix {@code smSM_TOUT_ACT_bnBN_kaK_ALIGNED.} with the output {@code PREFIXy}. The
 * op picks the variant from the token count and X's address; here each build of the emulator finds the launch of
 * its own variant. The fixture already holds {@code x}, {@code values}, {@code metadata} and {@code bias}.
 */
public final class TwoFourLaunchRecords {
    private TwoFourLaunchRecords() {
    }

    public static void record(EmulationFixture fixture, Backend reference, DeviceArray x, TwoFourWeight w,
                              DeviceArray bias) {
        boolean aligned = w.in() % 8 == 0;
        try (Closer closer = new Closer("TwoFourLaunchRecords")) {
            for (boolean warpgroup : new boolean[] {false, true}) {
                String file = warpgroup ? "two_four_gemm_sm90.cu" : "two_four_gemm.cu";
                for (Map<String, String> variant : KernelSources.shipped().kernel(file).variants()) {
                    boolean kAligned = variant.get("K_ALIGNED").equals("1");
                    if (!variant.get("T_IN").equals(x.dtype().kernelName()) || (kAligned && !aligned)) {
                        continue;
                    }
                    DType outType = DType.valueOf(variant.get("T_OUT").toUpperCase(Locale.ROOT));
                    Activation activation = Arrays.stream(Activation.values())
                            .filter(a -> a.kernelName().equals(variant.get("ACT"))).findFirst().orElseThrow();
                    int blockN = warpgroup ? TwoFourGemmTiling.BLOCK_N_SM90 : Integer.parseInt(variant.get("BN"));
                    String prefix = "sm" + (warpgroup ? 90 : 80) + "_" + outType.kernelName() + "_"
                            + activation.kernelName() + "_bn" + blockN + "_ka" + (kAligned ? 1 : 0) + ".";
                    DeviceArray y = HostData.upload(reference, outType, Shape.of(x.shape().rows(), w.out()),
                            new float[Math.toIntExact(x.shape().rows() * w.out())]);
                    closer.register(y.buffer());
                    LaunchRecorder recorder = new LaunchRecorder(fixture, prefix).name(x, "x")
                            .name(w.values(), "values").name(w.metadata(), "metadata").name(y, prefix + "y");
                    if (bias != null) {
                        recorder.name(bias, "bias");
                    }
                    recorder.write(java.util.List.of(TwoFourLaunches.launch(recorder, x, w, bias, activation, y,
                            new TwoFourLaunches.Variant(warpgroup, blockN, kAligned))));
                }
            }
        }
    }
}
