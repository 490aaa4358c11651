package org.lacuna.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Comparator;
import java.util.stream.IntStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.lacuna.runtime.pointcloud.CoordinateKey;

class KeySortTest {
    @Provide
    Arbitrary<long[]> keys() {
        // Few distinct values (so ties are common), full-range values (every byte varies), and EMPTY.
        Arbitrary<Long> key = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(0, 5)),
                Tuple.of(4, Arbitraries.longs()),
                Tuple.of(1, Arbitraries.just(CoordinateKey.EMPTY)),
                Tuple.of(2, Arbitraries.of(CoordinateKey.pack(0, -1, 0, 1), CoordinateKey.pack(3, 2, -300, 7))));
        return key.array(long[].class).ofMinSize(1).ofMaxSize(600);
    }

    @Property(tries = 300)
    void sortsStablyInCoordinateKeyOrder(@ForAll("keys") long[] input) {
        Integer[] expected = IntStream.range(0, input.length).boxed().toArray(Integer[]::new);
        // Arrays.sort on objects is stable: equal keys keep their input order.
        java.util.Arrays.sort(expected, Comparator.comparing(i -> input[i], CoordinateKey::compare));
        KeySort.Sorted sorted = KeySort.sort(input);
        assertArrayEquals(java.util.Arrays.stream(expected).mapToInt(Integer::intValue).toArray(), sorted.indices());
        long[] keys = new long[input.length];
        for (int j = 0; j < keys.length; j++) {
            keys[j] = input[expected[j]];
        }
        assertArrayEquals(keys, sorted.keys());
    }
}
