package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.ErrorCode;
import org.lacuna.runtime.error.NotSupportedException;

/** The launch builder's packing and the grid arithmetic; both run without a GPU. */
class KernelArgumentsTest {
    @Test
    void argumentsKeepTheKernelsOrderKindsAndValues() {
        KernelArguments args = new KernelArguments().address(0x7f00_0000_1000L).i32(-3).i64(1L << 40).f32(0.5f)
                .f64(-2.25).pointer(null);
        assertEquals(List.of(KernelArguments.Kind.POINTER, KernelArguments.Kind.I32, KernelArguments.Kind.I64,
                KernelArguments.Kind.F32, KernelArguments.Kind.F64, KernelArguments.Kind.POINTER), args.kinds());
        assertEquals(0x7f00_0000_1000L, args.value(0));
        assertEquals(-3, args.value(1));
        assertEquals(1L << 40, args.value(2));
        assertEquals(0.5f, args.value(3));
        assertEquals(-2.25, args.value(4));
        assertEquals(0L, args.value(5), "a missing optional operand is the null device pointer");
        assertNotNull(args.pack("test"));
        assertNull(new KernelArguments().pointer(DevicePointer.at(64)).value(0),
                "JCuda does not reveal a CUdeviceptr's address; only raw addresses are recorded");
    }

    @Test
    void eachParameterIsAlignedToItsSizeAsTheCudaAbiLaysThemOut() {
        // int, pointer, int, int, long long, float, double: 0, 8, 16, 20, 24, 32, 40 → 48 bytes
        KernelArguments args = new KernelArguments().i32(1).address(2).i32(3).i32(4).i64(5).f32(6).f64(7);
        assertArrayEquals(new int[] {0, 8, 16, 20, 24, 32, 40}, args.offsets());
        assertEquals(48, args.byteSize());
        assertEquals(0, new KernelArguments().byteSize());
    }

    @Test
    void randomParameterListsNeverOverlapAndRespectAlignment() {
        Random random = new Random(42);
        for (int trial = 0; trial < 200; trial++) {
            KernelArguments args = new KernelArguments();
            int n = 1 + random.nextInt(30);
            for (int i = 0; i < n; i++) {
                switch (random.nextInt(5)) {
                    case 0 -> args.address(random.nextLong());
                    case 1 -> args.i32(random.nextInt());
                    case 2 -> args.i64(random.nextLong());
                    case 3 -> args.f32(random.nextFloat());
                    default -> args.f64(random.nextDouble());
                }
            }
            int[] offsets = args.offsets();
            List<KernelArguments.Kind> kinds = args.kinds();
            assertEquals(n, args.count());
            for (int i = 0; i < n; i++) {
                int size = kinds.get(i).bytes;
                assertEquals(0, offsets[i] % size, "parameter " + i + " aligned to " + size);
                if (i > 0) {
                    int previousEnd = offsets[i - 1] + kinds.get(i - 1).bytes;
                    assertTrue(offsets[i] >= previousEnd && offsets[i] - previousEnd < size, "no overlap, no extra gap");
                }
            }
        }
    }

    @Test
    void aParameterBlockOverTheDriversLimitIsRefusedNamingTheKernel() {
        KernelArguments args = new KernelArguments();
        for (int i = 0; i < KernelArguments.MAX_PARAMETER_BYTES / 8; i++) {
            args.i64(i);
        }
        assertEquals(KernelArguments.MAX_PARAMETER_BYTES, args.byteSize());
        assertNotNull(args.pack("at_the_limit"));
        args.i32(0);
        NotSupportedException e = assertThrows(NotSupportedException.class, () -> args.pack("too_many"));
        assertEquals(ErrorCode.NOT_SUPPORTED, e.code());
        assertTrue(e.getMessage().contains("too_many"), e.getMessage());
    }

    @Test
    void gridsCoverTheWorkAndGridStrideKernelsAreCapped() {
        assertEquals(0, LaunchGrid.blocks(0, 256));
        assertEquals(1, LaunchGrid.blocks(1, 256));
        assertEquals(1, LaunchGrid.blocks(256, 256));
        assertEquals(2, LaunchGrid.blocks(257, 256));
        assertEquals(Long.MAX_VALUE / 2 + 1, LaunchGrid.blocks(Long.MAX_VALUE, 2), "no overflow near the top");
        Random random = new Random(7);
        for (int i = 0; i < 1000; i++) {
            long work = random.nextLong(0, 1L << 40);
            int block = 1 + random.nextInt(1024);
            long blocks = LaunchGrid.blocks(work, block);
            assertTrue(blocks * block >= work && (blocks - 1) * block < Math.max(work, 1), work + " over " + block);
            long cap = 1 + random.nextInt(4096);
            assertEquals(Math.min(blocks, cap), LaunchGrid.gridStride(work, block, cap));
        }
        assertEquals(0, LaunchGrid.gridStride(0, 128, 64), "no work, no launch");
        assertEquals(1, LaunchGrid.gridStrideAtLeastOne(0, 128, 64));
        assertEquals(64, LaunchGrid.gridStrideAtLeastOne(1 << 20, 128, 64));
        assertThrows(IllegalArgumentException.class, () -> LaunchGrid.blocks(-1, 128));
        assertThrows(IllegalArgumentException.class, () -> LaunchGrid.blocks(1, 0));
    }
}
