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
 * Records the launches the CUDA ops would make, for the kernel emulator. As {@link LaunchOperands} it turns each
 * named array into a made-up address (the buffer's number in the top bits, the array's byte offset below) and writes
 * each host-built table the op would upload beside the fixture; {@link #write} then serialises the launches: kernel
 * file and entry, the variant's constants, grid, block, dynamic shared bytes and every argument as {@code
 * ptr:NAME+OFFSET}, {@code ptr:null}, {@code i32:}, {@code i64:}, {@code f32:} or {@code f64:} (floats in
 * hexadecimal, read back exactly). Buffers are declared as {@code buffer.NAME=DTYPE} (scratch: {@code scratch}) and
 * {@code size.NAME=BYTES}; a buffer without a {@code NAME.bin} starts poisoned. The emulator ({@code
 * kernels/src/test/emulator/launch.h}) calls the kernel with those arguments, checking each against the kernel's
 * parameter list.
 */
final class LaunchRecorder implements LaunchOperands {
    private static final int OFFSET_BITS = 40;
    private final EmulationFixture fixture;
    private final String prefix;
    private final Map<DeviceBuffer, String> names = new IdentityHashMap<>();
    private final List<String> byNumber = new ArrayList<>();

    /** Records into {@code fixture}; {@code prefix} starts the names of its tables and launch keys. */
    LaunchRecorder(EmulationFixture fixture, String prefix) {
        this.fixture = fixture;
        this.prefix = prefix;
    }

    /** Names the buffer of {@code array}; the fixture's array file of that name, if any, holds its contents. */
    LaunchRecorder name(DeviceArray array, String name) {
        if (!names.containsKey(array.buffer())) {
            names.put(array.buffer(), name);
            declare(name, array.dtype().kernelName(), array.byteOffset() + array.byteSize());
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
        arguments.address(address(name) + array.byteOffset());
    }

    @Override
    public long upload(String name, int[] values) {
        fixture.array(prefix + name, values);
        return declare(prefix + name, "i32", values.length * 4L);
    }

    @Override
    public long upload(String name, long[] values) {
        fixture.array(prefix + name, values);
        return declare(prefix + name, "i64", values.length * 8L);
    }

    @Override
    public long acquire(String name, long bytes) {
        return declare(prefix + name, "scratch", bytes);
    }

    private long declare(String name, String dtype, long bytes) {
        byNumber.add(name);
        fixture.meta("buffer." + name, dtype).meta("size." + name, bytes);
        return address(name);
    }

    private long address(String name) {
        return (long) (byNumber.indexOf(name) + 1) << OFFSET_BITS;
    }

    /** Writes {@code launches} (in order) as {@code PREFIXlaunch.count} and {@code PREFIXlaunchI.*} meta lines. */
    void write(List<KernelLaunch> launches) {
        fixture.meta(prefix + "launch.count", launches.size());
        for (int i = 0; i < launches.size(); i++) {
            KernelLaunch launch = launches.get(i);
            String key = prefix + "launch" + i + ".";
            fixture.meta(key + "file", launch.file()).meta(key + "entry", launch.entry())
                    .meta(key + "defines", new TreeMap<>(launch.constants()).entrySet().stream()
                            .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")))
                    .meta(key + "grid", launch.gridX() + " " + launch.gridY())
                    .meta(key + "block", launch.block()).meta(key + "shared", launch.sharedBytes())
                    .meta(key + "args", arguments(launch.arguments()));
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
