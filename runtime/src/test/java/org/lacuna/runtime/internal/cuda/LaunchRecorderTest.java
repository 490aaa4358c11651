package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.testing.EmulationFixture;

/** The launch records the kernel emulator launches from: what {@link ElementwiseLaunches} decides, as written. */
class LaunchRecorderTest {
    @TempDir
    Path dir;

    @Test
    void aRecordNamesEachBufferWithItsOffsetAndKeepsScalarsExact() throws IOException {
        try (Backend reference = new ReferenceBackendProvider().open(0)) {
            DeviceArray whole = HostData.upload(reference, DType.F16, Shape.of(4, 3), new float[12]);
            // A view two rows in (offset 12 bytes: 2 rows of 3 f16) as x, and the null pointer for an absent beta.
            DeviceArray x = new DeviceArray(whole.buffer(), 6 * 2, DType.F16, Shape.of(1, 3));
            DeviceArray gamma = HostData.upload(reference, DType.F32, Shape.of(3), new float[3]);
            DeviceArray y = HostData.upload(reference, DType.F32, Shape.of(1, 3), new float[3]);
            EmulationFixture fixture = new EmulationFixture(dir);
            LaunchRecorder recorder = new LaunchRecorder(fixture, "p.").name(whole, "x").name(gamma, "gamma")
                    .name(y, "y");
            KernelLaunch launch = new ElementwiseLaunches(recorder, 2).layerNorm(x, gamma, null, 1e-5, y);
            recorder.write(List.of(launch));
            fixture.finish();
            Map<String, String> meta = meta(dir);
            assertEquals("ptr:x+12 ptr:gamma+0 ptr:null ptr:y+0 i64:1 i64:3 f32:" + Float.toHexString(1e-5f),
                    meta.get("p.launch0.args"));
            assertEquals("BLOCK=256 T_IN=f16 T_OUT=f32", meta.get("p.launch0.defines"));
            assertEquals("1 1", meta.get("p.launch0.grid"), "one row: one block");
            assertEquals("f16", meta.get("buffer.x"));
            assertEquals("24", meta.get("size.x"));
            whole.buffer().close();
            gamma.buffer().close();
            y.buffer().close();
        }
    }

    @Test
    void gridStrideLaunchesStopAtEightBlocksPerSmAndRowLaunchesAtThirtyTwo() {
        try (Backend reference = new ReferenceBackendProvider().open(0)) {
            DeviceArray x = HostData.upload(reference, DType.F32, Shape.of(40, 130), new float[40 * 130]);
            DeviceArray out = HostData.upload(reference, DType.F32, Shape.of(40), new float[40]);
            ElementwiseLaunches launches = new ElementwiseLaunches((args, array, call) -> args.address(0), 1);
            assertEquals(8, launches.biasActivation(x, null, Activation.RELU, x).gridX());
            assertEquals(32, launches.rowReduce(x, org.lacuna.runtime.ops.RowReduction.SUM, out).gridX());
            assertEquals(3, new ElementwiseLaunches((args, array, call) -> args.address(0), 16)
                    .cast(HostData.upload(reference, DType.F32, Shape.of(1, 600), new float[600]),
                            HostData.upload(reference, DType.F16, Shape.of(1, 600), new float[600])).gridX(),
                    "600 elements in blocks of 256");
        }
    }

    @Test
    void anOperandTheFixtureDidNotNameIsRejected() {
        try (Backend reference = new ReferenceBackendProvider().open(0)) {
            DeviceArray x = HostData.upload(reference, DType.F32, Shape.of(2), new float[2]);
            LaunchRecorder recorder = new LaunchRecorder(new EmulationFixture(dir), "");
            assertThrows(IllegalStateException.class,
                    () -> new ElementwiseLaunches(recorder, 1).add(x, x, x));
        }
    }

    private static Map<String, String> meta(Path dir) throws IOException {
        Map<String, String> meta = new HashMap<>();
        for (String line : Files.readAllLines(dir.resolve("meta.txt"))) {
            int eq = line.indexOf('=');
            meta.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return meta;
    }
}
