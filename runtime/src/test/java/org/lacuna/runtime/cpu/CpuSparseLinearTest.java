package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.lacuna.runtime.backend.Backend;
import org.lacuna.runtime.cpu.kernels.TwoFourMatrix;
import org.lacuna.runtime.cpu.kernels.TwoFourMatrixContents;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;
import org.lacuna.runtime.data.HalfFloats;
import org.lacuna.runtime.data.HostData;
import org.lacuna.runtime.data.Shape;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.InvalidInputException;
import org.lacuna.runtime.gemm.DeviceWeights;
import org.lacuna.runtime.gemm.TwoFourMetadata;
import org.lacuna.runtime.gemm.TwoFourPruning;
import org.lacuna.runtime.gemm.TwoFourWeights;
import org.lacuna.runtime.ops.Activation;
import org.lacuna.runtime.ops.CsrWeight;
import org.lacuna.runtime.ops.TwoFourWeight;
import org.lacuna.runtime.testing.TestData;

/** What the sparse linear layers promise beyond their results: no dense weight, one conversion, clear errors. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuSparseLinearTest {
    private Backend backend;

    @BeforeAll
    void open() {
        backend = new CpuBackendProvider().open(0, new CpuOptions(2, true, false));
    }

    @AfterAll
    void close() {
        backend.close();
    }

    private TwoFourWeights pruned(int out, int in) {
        SplittableRandom random = TestData.random("sparseLinear");
        return TwoFourWeights.compress(TwoFourPruning.prune(TestData.uniform(random, out * in, 1f, DType.F16), out,
                in), out, in, DType.F16);
    }

    @Test
    void theTwoFourFormHoldsTheKeptHalfOnly() {
        int out = 200;
        int in = 390; // ragged: the last group has two columns
        TwoFourWeight weight = DeviceWeights.upload(backend, pruned(out, in));
        CpuContext context = CpuContext.open(new CpuOptions(1, true, false));
        try {
            TwoFourMatrix matrix = CpuSparseLinear.convert(weight, context);
            long denseBytes = (long) out * in * Float.BYTES;
            long groups = (in + 3) / 4;
            assertEquals(out * 2 * groups, matrix.multiplyAddsPerToken(), "one multiply-add per kept value");
            assertTrue(matrix.byteSize() <= 0.57 * denseBytes, matrix.byteSize() + " bytes against " + denseBytes
                    + " dense: the form must not grow back to dense");
        } finally {
            context.threads().close();
            DeviceWeights.release(weight);
        }
    }

    @Test
    void aWeightIsConvertedOnceAndForgottenWhenItsBuffersClose() {
        CpuContext context = CpuContext.open(new CpuOptions(1, true, false));
        try (CpuSparseLinear sparse = new CpuSparseLinear(context)) {
            TwoFourWeight first = DeviceWeights.upload(backend, pruned(64, 48));
            DeviceArray x = HostData.upload(backend, DType.F16, Shape.of(5, 48), new float[5 * 48]);
            DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(5, 64), new float[5 * 64]);
            sparse.linearTwoFour(x, first, null, Activation.NONE, y);
            sparse.linearTwoFour(x, first, null, Activation.RELU, y);
            assertEquals(1, sparse.cachedWeights());
            DeviceWeights.release(first);
            TwoFourWeight second = DeviceWeights.upload(backend, pruned(64, 48));
            sparse.linearTwoFour(x, second, null, Activation.NONE, y);
            assertEquals(1, sparse.cachedWeights(), "the closed weight's form is dropped");
            DeviceWeights.release(second);
            x.buffer().close();
            y.buffer().close();
        } finally {
            context.threads().close();
        }
    }

    @Test
    void rowBlocksCoverTheRowsEvenlyWithinTheirBounds() {
        for (int out : new int[] {1, 15, 16, 70, 384, 801, 1536, 3072, 5000}) {
            for (int tokenBlocks : new int[] {1, 3, 4, 16}) {
                int rowBlock = CpuSparseLinear.rowBlock(out, tokenBlocks);
                int blocks = CpuThreads.chunks(out, rowBlock);
                String what = "out=" + out + " tokenBlocks=" + tokenBlocks + " rowBlock=" + rowBlock;
                assertTrue(rowBlock % CpuSparseLinear.ROW_GRAIN == 0 && rowBlock > 0, what);
                assertTrue(rowBlock <= CpuSparseLinear.MAX_ROW_BLOCK, what);
                // Enough blocks for the threads wherever the rows allow one grain per block.
                int wanted = CpuThreads.chunks(CpuSparseLinear.MIN_BLOCKS, tokenBlocks);
                assertTrue(blocks >= Math.min(wanted, CpuThreads.chunks(out, CpuSparseLinear.ROW_GRAIN)), what);
                // Even: the last block is short by less than a grain per block.
                assertTrue(out - (blocks - 1) * rowBlock > rowBlock - blocks * CpuSparseLinear.ROW_GRAIN, what);
            }
        }
    }

    @Test
    void aCsrColumnOutsideTheRowIsRefused() {
        int[][] badColumns = {{0, 5}, {-1, 2}};
        for (int[] columns : badColumns) {
            CsrWeight weight = csr(new int[] {0, 1, 2}, columns, 4);
            try {
                InvalidInputException error = assertThrows(InvalidInputException.class, () -> run(weight));
                assertEquals(ErrorCode.INVALID_ARGUMENT, error.code());
                assertTrue(error.getMessage().contains("outside [0, 4)"), error.getMessage());
            } finally {
                DeviceWeights.release(weight);
            }
        }
    }

    @Test
    void csrOffsetsPastTheNonZerosAreRefused() {
        CsrWeight weight = csr(new int[] {0, 2, 3}, new int[] {0, 1}, 4);
        try {
            InvalidInputException error = assertThrows(InvalidInputException.class, () -> run(weight));
            assertTrue(error.getMessage().contains("row 1 spans entries [2, 3)"), error.getMessage());
        } finally {
            DeviceWeights.release(weight);
        }
    }

    @Test
    void twoFourMetadataWithoutIncreasingPositionsIsRefused() {
        TwoFourWeights weights = pruned(128, 64);
        int[] metadata = weights.metadata();
        metadata[0] = (metadata[0] & ~0xF) | 0x5; // row 0, group 0: positions (1, 1)
        DeviceArray values = HostData.uploadBytes(backend, DType.F16, Shape.of(weights.paddedOut(),
                weights.paddedIn() / 2), weights.valuesSegment());
        DeviceArray words = HostData.upload(backend, Shape.of(metadata.length), metadata);
        TwoFourWeight weight = new TwoFourWeight(values, words, 128, 64, weights.paddedOut(), weights.paddedIn());
        DeviceArray x = HostData.upload(backend, DType.F16, Shape.of(2, 64), new float[2 * 64]);
        DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(2, 128), new float[2 * 128]);
        try {
            InvalidInputException error = assertThrows(InvalidInputException.class,
                    () -> backend.ops().gemm().linearTwoFour(x, weight, null, Activation.NONE, y));
            assertTrue(error.getMessage().contains("row 0 group 0 has metadata nibble 0x5"), error.getMessage());
        } finally {
            DeviceWeights.release(weight);
            x.buffer().close();
            y.buffer().close();
        }
    }

    /**
     * The bulk conversion against its straightforward definition (each group's nibble read alone, each kept value
     * widened alone, a position past {@code in} zero, then the constructor's layout), bit for bit, on 1 and 2
     * threads and on both widening paths. The compressed values are random bits, NaNs and the ragged group's dropped
     * positions included, so a value the fast path takes from the wrong place shows.
     */
    @Test
    void theBulkTwoFourConversionGivesTheStraightforwardForm() {
        int[][] shapes = {{1, 1}, {7, 6}, {37, 130}, {131, 67}, {65, 1030}, {129, 64}};
        SplittableRandom random = TestData.random("twoFourConversion");
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            for (int[] shape : shapes) {
                int out = shape[0];
                int in = shape[1];
                TwoFourWeights weights = TwoFourWeights.compress(TwoFourPruning.prune(TestData.uniform(random,
                        out * in, 1f, dtype), out, in), out, in, dtype);
                short[] bits = new short[weights.paddedOut() * weights.paddedIn() / 2];
                for (int i = 0; i < bits.length; i++) {
                    bits[i] = (short) random.nextInt();
                }
                TwoFourWeight weight = twoFour(weights, bits, weights.metadata());
                TwoFourMatrix expected = straightforward(weights, bits);
                try {
                    List<CpuOptions> paths = List.of(new CpuOptions(1, false, false), new CpuOptions(2, true, false));
                    for (CpuOptions options : paths) {
                        CpuContext context = CpuContext.open(options);
                        try {
                            TwoFourMatrix matrix = CpuSparseLinear.convert(weight, context);
                            String what = dtype + " " + out + "x" + in + " " + options;
                            assertArrayEquals(TwoFourMatrixContents.nibbles(expected),
                                    TwoFourMatrixContents.nibbles(matrix), what);
                            float[] want = TwoFourMatrixContents.values(expected);
                            float[] got = TwoFourMatrixContents.values(matrix);
                            for (int i = 0; i < want.length; i++) {
                                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                        what + " value " + i);
                            }
                        } finally {
                            context.threads().close();
                        }
                    }
                } finally {
                    DeviceWeights.release(weight);
                }
            }
        }
    }

    /** Every nibble whose positions do not increase is refused, and of several the first in row order is named. */
    @Test
    void theFirstUnorderedNibbleInRowOrderIsNamed() {
        int out = 200;
        int in = 390;
        TwoFourWeights weights = pruned(out, in);
        short[] bits = weights.values();
        CpuContext context = CpuContext.open(new CpuOptions(2, true, false));
        try {
            for (int nibble = 0; nibble < 16; nibble++) {
                if (TwoFourMatrix.isOrderedNibble(nibble)) {
                    continue;
                }
                int[] metadata = weights.metadata();
                setNibble(metadata, weights, 150, 3, nibble); // a later chunk of rows, maybe on the other thread
                setNibble(metadata, weights, 77, 20, nibble);
                setNibble(metadata, weights, 77, 9, nibble);
                TwoFourWeight weight = twoFour(weights, bits, metadata);
                try {
                    InvalidInputException error = assertThrows(InvalidInputException.class,
                            () -> CpuSparseLinear.convert(weight, context));
                    assertEquals(ErrorCode.INVALID_ARGUMENT, error.code());
                    String named = "row 77 group 9 has metadata nibble 0x" + Integer.toHexString(nibble);
                    assertTrue(error.getMessage().contains(named), error.getMessage());
                } finally {
                    DeviceWeights.release(weight);
                }
            }
        } finally {
            context.threads().close();
        }
    }

    private TwoFourWeight twoFour(TwoFourWeights weights, short[] bits, int[] metadata) {
        DeviceArray values = HostData.uploadBytes(backend, weights.dtype(), Shape.of(weights.paddedOut(),
                weights.paddedIn() / 2), MemorySegment.ofArray(bits));
        DeviceArray words = HostData.upload(backend, Shape.of(metadata.length), metadata);
        return new TwoFourWeight(values, words, weights.out(), weights.in(), weights.paddedOut(), weights.paddedIn());
    }

    /** The form by its definition, group by group: the reference the bulk conversion must match. */
    private static TwoFourMatrix straightforward(TwoFourWeights weights, short[] bits) {
        int groups = TwoFourMatrix.groupsOf(weights.in());
        float[] kept = new float[weights.out() * 2 * groups];
        byte[] nibbles = new byte[weights.out() * groups];
        for (int row = 0; row < weights.out(); row++) {
            for (int group = 0; group < groups; group++) {
                int nibble = weights.nibbleAt(row, group);
                nibbles[row * groups + group] = (byte) nibble;
                for (int slot = 0; slot < 2; slot++) {
                    int column = 4 * group + (nibble >>> (2 * slot) & 3);
                    short value = bits[row * weights.paddedIn() / 2 + 2 * group + slot];
                    kept[2 * (row * groups + group) + slot] = column >= weights.in() ? 0f
                            : weights.dtype() == DType.F16 ? HalfFloats.fromF16(value) : HalfFloats.fromBf16(value);
                }
            }
        }
        return new TwoFourMatrix(weights.out(), weights.in(), kept, nibbles);
    }

    /** Sets the nibble of (row, group) to {@code nibble}: found as the 4 bits of the metadata that move it. */
    private static void setNibble(int[] metadata, TwoFourWeights weights, int row, int group, int nibble) {
        for (int word = 0; word < metadata.length; word++) {
            for (int shift = 0; shift < Integer.SIZE; shift += 4) {
                int before = metadata[word];
                metadata[word] = before ^ (0xF << shift);
                boolean moves = TwoFourMetadata.nibbleAt(metadata, row, group, weights.paddedOut())
                        != weights.nibbleAt(row, group);
                metadata[word] = before;
                if (moves) {
                    metadata[word] = (before & ~(0xF << shift)) | (nibble << shift);
                    return;
                }
            }
        }
        throw new AssertionError("no metadata bits hold row " + row + " group " + group);
    }

    @Test
    void aCallWithoutTokensWritesNothingAndThrowsNothing() {
        TwoFourWeight twoFour = DeviceWeights.upload(backend, pruned(128, 64));
        CsrWeight csr = csr(new int[] {0, 1, 2}, new int[] {0, 3}, 4);
        DeviceArray x = HostData.upload(backend, DType.F16, Shape.of(0, 64), new float[0]);
        DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(0, 128), new float[0]);
        DeviceArray xCsr = HostData.upload(backend, DType.F32, Shape.of(0, 4), new float[0]);
        DeviceArray yCsr = HostData.upload(backend, DType.F32, Shape.of(0, 2), new float[0]);
        try {
            backend.ops().gemm().linearTwoFour(x, twoFour, null, Activation.RELU, y);
            backend.ops().gemm().linearCsr(xCsr, csr, null, Activation.NONE, yCsr);
            assertEquals(0, y.elementCount() + yCsr.elementCount());
        } finally {
            DeviceWeights.release(twoFour);
            for (DeviceArray a : List.of(x, y, xCsr, yCsr, csr.rowOffsets(), csr.columns(), csr.values())) {
                a.buffer().close();
            }
        }
    }

    private CsrWeight csr(int[] offsets, int[] columns, int in) {
        DeviceArray rowOffsets = HostData.upload(backend, Shape.of(offsets.length), offsets);
        DeviceArray cols = HostData.upload(backend, Shape.of(columns.length), columns);
        DeviceArray values = HostData.upload(backend, DType.F32, Shape.of(columns.length), new float[columns.length]);
        return new CsrWeight(rowOffsets, cols, values, offsets.length - 1, in);
    }

    private void run(CsrWeight weight) {
        DeviceArray x = HostData.upload(backend, DType.F32, Shape.of(3, weight.in()), new float[3 * weight.in()]);
        DeviceArray y = HostData.upload(backend, DType.F32, Shape.of(3, weight.out()), new float[3 * weight.out()]);
        try {
            backend.ops().gemm().linearCsr(x, weight, null, Activation.NONE, y);
        } finally {
            x.buffer().close();
            y.buffer().close();
        }
    }
}
