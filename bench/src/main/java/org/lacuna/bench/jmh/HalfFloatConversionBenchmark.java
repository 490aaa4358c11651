package org.lacuna.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.lacuna.runtime.data.HalfFloats;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Host-side conversion between float and the 16-bit types: every F16/BF16 tensor uploaded from Java data or
 * downloaded into it goes through these loops, so they bound the data-loading path next to the PCIe transfer.
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HalfFloatConversionBenchmark extends CpuBenchmarkSettings {
    /** 1 Mi elements: 4 MiB of floats, past the L2 of most CPUs, as a real tensor would be. */
    @Param("1048576")
    int elements;

    float[] floats;
    short[] halves;
    short[] encoded;
    float[] decoded;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        floats = new float[elements];
        halves = new short[elements];
        encoded = new short[elements];
        decoded = new float[elements];
        for (int i = 0; i < elements; i++) {
            floats[i] = (float) (random.nextDouble(-4, 4));
            encoded[i] = HalfFloats.toF16(floats[i]);
        }
    }

    @Benchmark
    public short[] floatToF16() {
        for (int i = 0; i < floats.length; i++) {
            halves[i] = HalfFloats.toF16(floats[i]);
        }
        return halves;
    }

    @Benchmark
    public short[] floatToBf16() {
        for (int i = 0; i < floats.length; i++) {
            halves[i] = HalfFloats.toBf16(floats[i]);
        }
        return halves;
    }

    @Benchmark
    public float[] f16ToFloat() {
        for (int i = 0; i < encoded.length; i++) {
            decoded[i] = HalfFloats.fromF16(encoded[i]);
        }
        return decoded;
    }
}
