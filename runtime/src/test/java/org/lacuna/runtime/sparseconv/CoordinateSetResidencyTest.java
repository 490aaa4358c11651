package org.lacuna.runtime.sparseconv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.CpuBackendProvider;
import org.lacuna.runtime.cpu.ReferenceBackendProvider;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.ResourceClosedException;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.ops.SparseConvolutionConformance;
import org.lacuna.runtime.testing.TestData;

/**
 * Who frees the resident state of coordinate sets: builds raced by a close, state a build leaves on a set nobody
 * holds, and a backend that closes. The state here is made the way a device backend makes it (pool memory of the CPU
 * backend, so {@link Backend#memoryStats} counts every live array), through a stand-in for the device ops that asks
 * the sets exactly as the CUDA ops do: a map's build borrows its output set, a downsampled set's keys borrow its finer
 * set's keys.
 */
class CoordinateSetResidencyTest {
    private Backend backend;
    private BackendResidency device;
    private long baseline;

    @BeforeEach
    void open() {
        backend = new CpuBackendProvider().open(0);
        device = new BackendResidency("device stand-in");
        baseline = backend.memoryStats().inUseBytes();
    }

    @AfterEach
    void close() {
        device.close();
        backend.close();
    }

    private long live() {
        return backend.memoryStats().inUseBytes() - baseline;
    }

    private DeviceArray allocate(DType dtype, Shape shape) {
        return new DeviceArray(backend.allocate(Math.max(16, shape.elementCount() * dtype.byteSize())), 0, dtype,
                shape);
    }

    /** As the CUDA ops' coordinateKeys: a downsampled set's keys come from its finer set's, borrowed. */
    private DeviceArray keys(CoordinateSet set) {
        CoordinateSet.Origin origin = set.origin();
        if (origin == null) {
            return set.residentKeys(device, () -> allocate(DType.I64, Shape.of(set.size())));
        }
        return set.residentKeys(device, () -> set.borrowing(origin.fine(), () -> {
            keys(origin.fine());
            return allocate(DType.I64, Shape.of(set.size()));
        }));
    }

    /** As the CUDA ops' residentMap: the build needs both sets' keys and borrows the output set. */
    private ResidentKernelMap map(KernelMap map) {
        return map.inputs().residentMap(device, map.geometry(),
                () -> map.inputs().borrowing(map.outputs(), () -> {
                    keys(map.inputs());
                    keys(map.outputs());
                    return tables(map);
                }));
    }

    private ResidentKernelMap tables(KernelMap map) {
        return new ResidentKernelMap(map, allocate(DType.I32, Shape.of(map.outputCount(), map.volume())),
                allocate(DType.I64, Shape.of(map.outputCount(), map.maskWords())),
                allocate(DType.I64, Shape.of(map.volume() + 1L)), allocate(DType.I32, Shape.of(map.totalPairs())),
                allocate(DType.I32, Shape.of(map.totalPairs())));
    }

    private static CoordinateSet cloud(String seed) {
        return SparseConvolutionConformance.randomCloud(TestData.random(seed), 1, 8, 0.3);
    }

    @Test
    void keysBuiltWhileTheLastHolderReleasesAreFreedAndRefused() {
        CoordinateSet set = cloud("racedKeys");
        set.retain();
        assertThrows(ResourceClosedException.class, () -> set.residentKeys(device, () -> {
            DeviceArray made = allocate(DType.I64, Shape.of(set.size()));
            set.release();
            return made;
        }));
        assertEquals(0, live(), "the keys made for the closed set were freed");
        assertFalse(set.isResident());
        assertEquals(0, device.sets());
    }

    @Test
    void aMapBuiltWhileTheLastHolderReleasesIsFreedWithWhatItLeftOnOtherSets() {
        CoordinateSet fine = cloud("racedMap");
        KernelMap down = fine.kernelMap(ConvGeometry.strided(2, 2));
        fine.retain();
        assertThrows(ResourceClosedException.class, () -> fine.residentMap(device, down.geometry(), () -> {
            ResidentKernelMap built = map(down);
            fine.release();
            return built;
        }));
        // The inner request cached the map before the release closed it; whatever this build made is freed too.
        assertEquals(0, live(), "the map, both sets' keys: nothing outlives the close");
        assertFalse(fine.isResident());
        assertFalse(down.outputs().isResident(), "the output keys the build made on the unheld coarse set");
    }

    @Test
    void aBuildRacedByAnExplicitCloseIsBuiltAgainWhileTheSetIsHeld() {
        CoordinateSet set = cloud("closedKeys");
        set.retain();
        List<DeviceArray> builds = new ArrayList<>();
        DeviceArray keys = set.residentKeys(device, () -> {
            DeviceArray made = allocate(DType.I64, Shape.of(set.size()));
            builds.add(made);
            if (builds.size() == 1) {
                set.close();
            }
            return made;
        });
        assertEquals(2, builds.size(), "the first build belonged to the closed epoch");
        assertTrue(builds.get(0).buffer().isClosed(), "and was freed");
        assertSame(builds.get(1), keys);
        assertSame(keys, set.residentKeys(device, () -> {
            throw new AssertionError("cached");
        }));
        set.release();
        assertTrue(keys.buffer().isClosed());
        assertEquals(0, live());
    }

    /**
     * The U-Net pattern: a downsampling on x's set, x closed, then the transposed convolution back to x's set builds
     * keys on a set nobody holds any more; they are freed when the coarse set's last holder closes.
     */
    @Test
    void stateMadeOnAnUnheldSetIsFreedWithTheSetThatNeededIt() {
        CoordinateSet fine = cloud("derived");
        fine.retain();
        KernelMap down = fine.kernelMap(ConvGeometry.strided(2, 2));
        CoordinateSet coarse = down.outputs();
        map(down);
        coarse.retain();
        assertTrue(coarse.isResident(), "the strided build made the output keys");
        fine.release();
        assertFalse(fine.isResident());
        assertTrue(coarse.isResident(), "held by its own tensor");
        assertTrue(live() > 0, "the coarse keys are left");

        map(coarse.kernelMap(ConvGeometry.transposed(2, 2)));
        assertTrue(fine.isResident(), "the transposed build made the fine keys on the unheld fine set");
        coarse.release();
        assertFalse(coarse.isResident());
        assertFalse(fine.isResident(), "the fine keys went with the coarse set that needed them");
        assertEquals(0, live());

        // A downsampled set's keys made again from its (unheld) finer set's.
        coarse.retain();
        keys(coarse);
        assertTrue(fine.isResident());
        coarse.release();
        assertFalse(fine.isResident());
        assertEquals(0, live());
        assertEquals(0, device.sets());
    }

    @Test
    void aHeldBorrowedSetOutlivesTheSetThatBorrowedIt() {
        CoordinateSet fine = cloud("heldBorrowed");
        KernelMap down = fine.kernelMap(ConvGeometry.strided(2, 2));
        CoordinateSet coarse = down.outputs();
        fine.retain();
        coarse.retain();
        map(down);
        fine.release();
        assertTrue(coarse.isResident(), "the coarse set has a holder");
        coarse.release();
        assertEquals(0, live());
    }

    @Test
    void closingABackendDropsOnlyItsStateFromTheSets() {
        CoordinateSet set = cloud("backends");
        try (Backend reference = new ReferenceBackendProvider().open(0)) {
            ConvolutionOps cpu = backend.ops().convolution();
            KernelMap map = set.kernelMap(ConvGeometry.submanifold(3));
            ResidentKernelMap onCpu = cpu.residentMap(map);
            ResidentKernelMap onReference = reference.ops().convolution().residentMap(map);
            keys(set);
            assertEquals(3, set.residentBackends());
            device.close();
            assertEquals(2, set.residentBackends());
            assertEquals(0, live(), "the stand-in's keys were freed");
            assertThrows(ResourceClosedException.class, () -> keys(set), "a closed backend gets no new state");
            assertEquals(0, live(), "and what was made for it is freed");
            backend.close();
            assertTrue(onCpu.isClosed(), "the closed backend's map was freed");
            assertEquals(1, set.residentBackends());
            assertFalse(onReference.isClosed(), "the other backend's state stays");
            assertArrayEquals(map.tables().pairInputs(), HostData.downloadInts(reference, onReference.pairInputs()));
            reference.close();
            assertEquals(0, set.residentBackends());
            assertFalse(set.isResident());
        }
    }
}
