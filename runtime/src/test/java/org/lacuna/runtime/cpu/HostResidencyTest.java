package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.ops.ConvolutionOps;
import org.lacuna.runtime.sparseconv.ConvGeometry;
import org.lacuna.runtime.sparseconv.CoordinateSet;
import org.lacuna.runtime.sparseconv.ResidentKernelMap;

/**
 * The CPU backends' resident keys and map tables are read-only views of the host set's and map's own arrays: an op
 * handed one as its output fails with a Lacuna error naming the call, and the host arrays stay as they were.
 */
class HostResidencyTest {
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "cpu-reference"})
    void anOpGivenAResidentViewAsItsOutputIsRefusedByName(String name) {
        try (Backend backend = name.equals("cpu") ? new CpuBackendProvider().open(0)
                : new ReferenceBackendProvider().open(0)) {
            CoordinateSet cube = cube(3);
            ConvolutionOps ops = backend.ops().convolution();
            DeviceArray keys = ops.coordinateKeys(cube);
            ResidentKernelMap map = ops.residentMap(cube.kernelMap(ConvGeometry.submanifold(3)));
            int[] pairInputs = HostData.downloadInts(backend, map.pairInputs());
            // The map's pair inputs (343 of them) seen as [27, 4] coordinates: what unpacking would write into.
            DeviceArray table = new DeviceArray(map.pairInputs().buffer(), 0, DType.I32, Shape.of(cube.size(), 4));
            InvalidInputException unpack = assertThrows(InvalidInputException.class,
                    () -> ops.unpackCoordinates(keys, table));
            assertEquals("unpackCoordinates", unpack.call());
            InvalidInputException fill = assertThrows(InvalidInputException.class,
                    () -> backend.fill(keys.buffer(), 0, Long.BYTES, (byte) 0));
            assertEquals("fill", fill.call());
            assertArrayEquals(pairInputs, HostData.downloadInts(backend, map.pairInputs()), "the table is unchanged");
            assertArrayEquals(cube.keys(), HostData.downloadLongs(backend, keys), "the keys are unchanged");
            cube.close();
        }
    }

    /** Every point of a side³ cube. */
    private static CoordinateSet cube(int side) {
        int[] coordinates = new int[side * side * side * 4];
        int at = 0;
        for (int x = 0; x < side; x++) {
            for (int y = 0; y < side; y++) {
                for (int z = 0; z < side; z++) {
                    coordinates[at + 1] = x;
                    coordinates[at + 2] = y;
                    coordinates[at + 3] = z;
                    at += 4;
                }
            }
        }
        return CoordinateSet.of(coordinates, new int[] {1, 1, 1});
    }
}
