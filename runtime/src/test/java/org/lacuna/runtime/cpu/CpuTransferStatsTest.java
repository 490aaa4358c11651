package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.backend.TransferStats;
import org.lacuna.runtime.ops.Activation;

/** Both CPU backends count each copy between host data and their memory, its bytes, and each wait; ops count none. */
class CpuTransferStatsTest {
    @Test
    void copiesAndWaitsAreCountedWithTheirBytesAndOpsAreNot() {
        for (Backend backend : List.of(new CpuBackendProvider().open(0), new ReferenceBackendProvider().open(0))) {
            try (backend) {
                TransferStats start = backend.transferStats();
                DeviceArray x = HostData.upload(backend, DType.F16, Shape.of(3, 5), new float[15]);
                DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(3, 5), new float[15]);
                TransferStats uploaded = backend.transferStats().since(start);
                assertEquals(new TransferStats(2, 15 * 2 + 15 * 4, 0, 0, 0), uploaded, backend.name());

                TransferStats beforeOps = backend.transferStats();
                backend.ops().elementwise().biasActivation(x, null, Activation.RELU, y);
                backend.ops().elementwise().cast(y, x);
                assertEquals(new TransferStats(0, 0, 0, 0, 0), backend.transferStats().since(beforeOps),
                        backend.name() + ": ops copy nothing between host and backend");

                HostData.downloadFloats(backend, y);
                backend.synchronize();
                backend.synchronize();
                TransferStats after = backend.transferStats().since(beforeOps);
                assertEquals(1, after.downloads(), backend.name());
                assertEquals(15 * 4, after.downloadBytes(), backend.name());
                assertEquals(2, after.synchronizations(), backend.name());
                assertEquals(1, after.copies(), backend.name());
                x.buffer().close();
                y.buffer().close();
            }
        }
    }
}
