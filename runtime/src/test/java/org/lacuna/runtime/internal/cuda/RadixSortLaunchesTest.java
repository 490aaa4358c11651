package org.lacuna.runtime.internal.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shared device sort's launch sequence (host code only; the kernels themselves run in the emulator from the
 * fixtures {@link RadixSortRecords} writes): per pass count, scan, scatter over the next byte; each pass reads what the
 * last one wrote, the first reads the input, and whatever the number of passes the last one lands in the outputs.
 */
class RadixSortLaunchesTest {
    private static final long KEYS = 0x1000;
    private static final long KEYS_OUT = 0x2000;
    private static final long VALUES_OUT = 0x3000;

    @Test
    void everyPassReadsThePreviousOneAndTheLastWritesTheOutputs() {
        for (int bytes = 1; bytes <= 8; bytes++) {
            List<String> scratch = new ArrayList<>();
            List<KernelLaunch> launches = new RadixSortLaunches("voxelize.cu", 256, 16).sort((name, size) -> {
                scratch.add(name);
                return 0x10_0000L * scratch.size();
            }, KEYS, 0L, 1000, bytes, KEYS_OUT, VALUES_OUT);
            assertEquals(3 * bytes, launches.size());
            long keysIn = KEYS;
            long valuesIn = 0;
            for (int pass = 0; pass < bytes; pass++) {
                KernelLaunch count = launches.get(3 * pass);
                KernelLaunch scan = launches.get(3 * pass + 1);
                KernelLaunch scatter = launches.get(3 * pass + 2);
                assertEquals(List.of(RadixSortLaunches.COUNT, RadixSortLaunches.SCAN, RadixSortLaunches.SCATTER),
                        List.of(count.entry(), scan.entry(), scatter.entry()));
                assertEquals(keysIn, count.arguments().value(0));
                assertEquals(8 * pass, count.arguments().value(2), "pass " + pass + " sorts byte " + pass);
                assertEquals(1, scan.gridX(), "the scan is one CTA");
                assertEquals(256L * 4, scan.arguments().value(1), "256 digits x 4 tiles of 256 keys");
                assertEquals(keysIn, scatter.arguments().value(0));
                assertEquals(valuesIn, scatter.arguments().value(1), "values carried from the previous pass");
                assertEquals(count.arguments().value(3), scatter.arguments().value(4), "the scanned counts");
                keysIn = scatter.arguments().value(5).longValue();
                valuesIn = scatter.arguments().value(6).longValue();
                assertTrue(keysIn != KEYS, "a pass never writes the input");
                assertEquals("voxelize.cu", scatter.file());
                assertEquals("256", scatter.constants().get("BLOCK"));
                assertEquals(4, scatter.gridX(), "4 tiles, at most 16 blocks");
            }
            assertEquals(KEYS_OUT, keysIn, bytes + " passes: the last lands in the outputs");
            assertEquals(VALUES_OUT, valuesIn);
            assertEquals(bytes == 1 ? 1 : 3, scratch.size(), "counts, and ping-pong buffers only for two passes or more");
        }
    }

    @Test
    void nothingToSortLaunchesNothingAndByteCountsOutsideAKeyAreRefused() {
        RadixSortLaunches sort = new RadixSortLaunches("sparseconv_map.cu", 256, 8);
        assertEquals(List.of(), sort.sort((name, size) -> 1L, KEYS, 0L, 0, 8, KEYS_OUT, VALUES_OUT));
        assertThrows(IllegalArgumentException.class, () -> sort.sort((name, size) -> 1L, KEYS, 0L, 5, 0, KEYS_OUT,
                VALUES_OUT));
        assertThrows(IllegalArgumentException.class, () -> sort.sort((name, size) -> 1L, KEYS, 0L, 5, 9, KEYS_OUT,
                VALUES_OUT));
    }

    @Test
    void theBytesHoldingAValueOrABitCount() {
        assertEquals(1, RadixSortLaunches.bytesFor(0));
        assertEquals(1, RadixSortLaunches.bytesFor(255));
        assertEquals(2, RadixSortLaunches.bytesFor(256));
        assertEquals(8, RadixSortLaunches.bytesFor(Long.MAX_VALUE));
        assertEquals(1, RadixSortLaunches.bytesForBits(1));
        assertEquals(4, RadixSortLaunches.bytesForBits(27));
        assertEquals(8, RadixSortLaunches.bytesForBits(64));
    }
}
