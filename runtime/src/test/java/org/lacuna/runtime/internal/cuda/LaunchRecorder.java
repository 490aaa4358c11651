package org.lacuna.runtime.internal.cuda;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.DeviceBuffer;
import org.lacuna.runtime.testing.EmulationFixture;

/**
 * Records the launches the CUDA ops would make, for the kernel emulator: as {@link ElementwiseLaunches.Operands} it
 * turns each named buffer into a made-up address (the buffer's number in the top bits, the array's byte offset below),
 * and {@link #write} serialises each launch beside the fixture's arrays: kernel file and entry, the variant's
 * constants, grid, block, dynamic shared bytes and every argument as {@code ptr:NAME+OFFSET}, {@code ptr:null},
 * {@code i32:}, {@code i64:}, {@code f32:} or {@code f64:} (floats in hexadecimal, read back exactly). The emulator
 * ({@code kernels/src/test/emulator/launch.h}) calls the kernel with those arguments, checking each against the
 * kernel's parameter list.
 */
final class LaunchRecorder implements ElementwiseLaunches.Operands {
    private static final int OFFSET_BITS = 40;
    private final Map<DeviceBuffer, String> names = new IdentityHashMap<>();
    private final List<String> byNumber = new ArrayList<>();

    /** Names the buffer of {@code array}; the fixture's array file of that name holds its contents. */
    LaunchRecorder name(DeviceArray array, String name) {
        if (!names.containsKey(array.buffer())) {
            names.put(array.buffer(), name);
            byNumber.add(name);
        }
        return this;
    }

    @Override
    public void add(KernelArguments arguments, DeviceArray array, String call) {
        if (array == null) {
            arguments.address(0);
            return;
        }
        String name = names.get(array.buffer());
        if (name == null) {
            throw new IllegalStateException(call + ": an operand with no name in the fixture");
        }
        arguments.address(((long) (byNumber.indexOf(name) + 1) << OFFSET_BITS) + array.byteOffset());
    }

    /** Writes {@code launches} (in order) as {@code launch.count} and {@code launchI.*} meta lines. */
    void write(EmulationFixture fixture, List<KernelLaunch> launches) {
        fixture.meta("launch.count", launches.size());
        for (int i = 0; i < launches.size(); i++) {
            KernelLaunch launch = launches.get(i);
            String prefix = "launch" + i + ".";
            fixture.meta(prefix + "file", launch.file()).meta(prefix + "entry", launch.entry())
                    .meta(prefix + "defines", new TreeMap<>(launch.constants()).entrySet().stream()
                            .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")))
                    .meta(prefix + "grid", launch.gridX() + " " + launch.gridY())
                    .meta(prefix + "block", launch.block()).meta(prefix + "shared", launch.sharedBytes())
                    .meta(prefix + "args", arguments(launch.arguments()));
        }
    }

    private String arguments(KernelArguments arguments) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < arguments.count(); i++) {
            Number value = arguments.value(i);
            out.add(switch (arguments.kinds().get(i)) {
                case POINTER -> pointer(value.longValue());
                case I32 -> "i32:" + value.intValue();
                case I64 -> "i64:" + value.longValue();
                case F32 -> "f32:" + Float.toHexString(value.floatValue());
                case F64 -> "f64:" + Double.toHexString(value.doubleValue());
            });
        }
        return String.join(" ", out);
    }

    private String pointer(long address) {
        if (address == 0) {
            return "ptr:null";
        }
        int number = (int) (address >>> OFFSET_BITS);
        return "ptr:" + byNumber.get(number - 1) + "+" + (address & ((1L << OFFSET_BITS) - 1));
    }
}
