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
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.TileOrder;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Records, into a sparse-convolution fixture, the launches {@link ConvolutionLaunches} makes for it: the implicit
 * GEMM for every declared {@code sparseconv_implicit_gemm.cu} variant of the fixture's input type and every {@link
 * TileOrder} (prefix {@code implicit_TOUT_ACT_ORDER.}, output {@code PREFIXy}), and the gather-GEMM-scatter's sums
 * (prefix {@code gather.}, accumulator {@code gather.sums}, written zeroed as the op's memset leaves it). The fixture
 * already holds {@code x}, {@code w} and {@code bias}.
 */
public final class ConvolutionLaunchRecords {
    private ConvolutionLaunchRecords() {
    }

    public static void record(EmulationFixture fixture, Backend reference, DType dtype, KernelMap map, int in,
                              int out, boolean withBias) {
        try (Closer closer = new Closer("ConvolutionLaunchRecords")) {
            DeviceArray x = array(closer, reference, dtype, Shape.of(map.inputCount(), in));
            DeviceArray w = array(closer, reference, dtype, Shape.of(map.volume(), in, out));
            DeviceArray bias = withBias ? array(closer, reference, DType.F32, Shape.of(out)) : null;
            for (Map<String, String> variant : KernelSources.shipped().kernel("sparseconv_implicit_gemm.cu").variants()) {
                if (!variant.get("T_IN").equals(dtype.kernelName())) {
                    continue;
                }
                DType outType = DType.valueOf(variant.get("T_OUT").toUpperCase(Locale.ROOT));
                Activation activation = Arrays.stream(Activation.values())
                        .filter(a -> a.kernelName().equals(variant.get("ACT"))).findFirst().orElseThrow();
                for (TileOrder order : TileOrder.values()) {
                    String prefix = "implicit_" + outType.kernelName() + "_" + activation.kernelName() + "_"
                            + order.name().toLowerCase(Locale.ROOT) + ".";
                    DeviceArray y = array(closer, reference, outType, Shape.of(map.outputCount(), out));
                    LaunchRecorder recorder = named(fixture, prefix, x, w, bias).name(y, prefix + "y");
                    recorder.write(new ConvolutionLaunches(recorder).implicitGemm(x, map, w, bias, activation, y,
                            order));
                }
            }
            DeviceArray sums = array(closer, reference, DType.F32, Shape.of(map.outputCount(), out));
            fixture.array("gather.sums", new float[Math.toIntExact(sums.elementCount())]);
            LaunchRecorder recorder = named(fixture, "gather.", x, w, bias).name(sums, "gather.sums");
            recorder.write(new ConvolutionLaunches(recorder).scatterSums(x, map, w, sums));
        }
    }

    private static LaunchRecorder named(EmulationFixture fixture, String prefix, DeviceArray x, DeviceArray w,
                                        DeviceArray bias) {
        LaunchRecorder recorder = new LaunchRecorder(fixture, prefix).name(x, "x").name(w, "w");
        return bias == null ? recorder : recorder.name(bias, "bias");
    }

    /** An array on the reference backend that only stands for an operand (its contents are the fixture's). */
    private static DeviceArray array(Closer closer, Backend backend, DType dtype, Shape shape) {
        DeviceArray array = HostData.upload(backend, dtype, shape, new float[Math.toIntExact(shape.elementCount())]);
        closer.register(array.buffer());
        return array;
    }
}
