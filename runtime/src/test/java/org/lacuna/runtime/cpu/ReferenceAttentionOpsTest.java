package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lacuna.runtime.attention.AttentionInputs;
import org.lacuna.runtime.attention.AttentionOptions;
import org.lacuna.runtime.attention.SequenceBatch;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.ops.AttentionConformance;

class ReferenceAttentionOpsTest extends AttentionConformance {
    @Override
    protected Backend openBackend() {
        return new ReferenceBackendProvider().open(0);
    }

    /** Offsets the GPU can only trust are checked here: the reference backend is where bad batches show up. */
    @Test
    void offsetsThatContradictTheBatchAreRefused() {
        DeviceArray qkv = HostData.upload(backend, DType.F16, Shape.of(6, 192), new float[6 * 192]);
        DeviceArray out = HostData.upload(backend, DType.F16, Shape.of(6, 64), new float[6 * 64]);
        try {
            for (int[] offsets : new int[][] {{0, 4, 2}, {1, 3}, {0, 7}, {0, 6}}) {
                SequenceBatch batch = new SequenceBatch(HostData.upload(backend, Shape.of(offsets.length), offsets), 6, 5);
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> backend.ops().attention()
                        .attention(AttentionInputs.packed(qkv), batch, AttentionOptions.of(1, 64), out, null));
                assertTrue(e.getMessage().contains("offsets") || e.getMessage().contains("length")
                        || e.getMessage().contains("end at row"), e.getMessage());
                batch.offsets().buffer().close();
            }
        } finally {
            qkv.buffer().close();
            out.buffer().close();
        }
        assertEquals(0, backend.memoryStats().inUseBytes());
    }
}
