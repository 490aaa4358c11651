package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.attention.SelectionRule;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.attention.TokenSelection;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;

/**
 * A selection's row maps live in device memory anyone may write: both CPU backends refuse an entry that is not -1 or
 * a row of the tensor it points into, instead of copying another tensor's bytes.
 */
class CpuRowMapTest {
    @Test
    void gatherAndScatterRefuseRowsOutOfRange() {
        for (Backend backend : List.of(new CpuBackendProvider().open(0), new ReferenceBackendProvider().open(0))) {
            try (backend) {
                SequenceBatch batch = new SequenceBatch(HostData.upload(backend, Shape.of(2), new int[] {0, 4}), 4, 4);
                SelectionRule rule = SelectionRule.keepRatio(0.5);
                try (TokenSelection selection = TokenSelection.allocate(backend, batch, rule, false)) {
                    backend.ops().attention().selectTokens(HostData.upload(backend, DType.F32, Shape.of(4),
                            new float[] {4, 3, 2, 1}), batch, null, rule, selection);
                    DeviceArray x = HostData.upload(backend, DType.F32, Shape.of(4, 8), new float[32]);
                    DeviceArray kept = HostData.upload(backend, DType.F32, Shape.of(selection.capacity(), 8),
                            new float[Math.toIntExact(selection.capacity() * 8)]);
                    DeviceArray out = HostData.upload(backend, DType.F32, Shape.of(4, 8), new float[32]);
                    for (int bad : new int[] {4, Integer.MAX_VALUE, -2}) {
                        overwrite(backend, selection.keptIndex(), 0, bad);
                        InvalidInputException e = assertThrows(InvalidInputException.class,
                                () -> backend.ops().attention().gatherRows(x, selection, kept), backend.name());
                        assertTrue(e.getMessage().contains("gatherRows") && e.getMessage().contains("keptIndex[0] is "
                                + bad), e.getMessage());
                    }
                    overwrite(backend, selection.slotOf(), 1, Math.toIntExact(selection.capacity()));
                    InvalidInputException e = assertThrows(InvalidInputException.class,
                            () -> backend.ops().attention().scatterRows(kept, selection, null, out), backend.name());
                    assertTrue(e.getMessage().contains("scatterRows") && e.getMessage().contains("slotOf[1]"),
                            e.getMessage());
                }
            }
        }
    }

    private static void overwrite(Backend backend, DeviceArray ints, long index, int value) {
        try (Arena host = Arena.ofConfined()) {
            var one = host.allocate(ValueLayout.JAVA_INT);
            one.set(ValueLayout.JAVA_INT, 0, value);
            backend.upload(one, ints.buffer(), ints.byteOffset() + index * Integer.BYTES, Integer.BYTES);
        }
    }
}
