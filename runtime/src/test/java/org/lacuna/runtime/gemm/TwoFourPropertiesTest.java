package org.lacuna.runtime.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.HalfFloats;

/** Properties over random shapes (ragged ones included) and values, checked against straightforward references. */
class TwoFourPropertiesTest {
    record Weight(int out, int in, float[] values) {
        @Override
        public String toString() {
            return "Weight[" + out + "x" + in + "]";
        }
    }

    @Provide
    Arbitrary<Weight> weights() {
        Arbitrary<Float> value = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0f)),
                Tuple.of(6, Arbitraries.floats().between(-1000f, 1000f)),
                // Equal magnitudes exercise the tie rule; tiny values round to zero in f16.
                Tuple.of(2, Arbitraries.of(1.5f, -1.5f)),
                Tuple.of(1, Arbitraries.of(1e-9f, -3e-8f, -0f)));
        return Combinators.combine(Arbitraries.integers().between(1, 140), Arbitraries.integers().between(1, 140))
                .flatAs((out, in) -> value.array(float[].class).ofSize(out * in).map(v -> new Weight(out, in, v)));
    }

    @Provide
    Arbitrary<DType> halfTypes() {
        return Arbitraries.of(DType.F16, DType.BF16);
    }

    @Property(tries = 150)
    void pruneKeepsTheTwoLargestOfEveryGroup(@ForAll("weights") Weight w) {
        float[] pruned = TwoFourPruning.prune(w.values(), w.out(), w.in());
        assertArrayEquals(referencePrune(w), pruned);
        assertTrue(TwoFourConformance.firstViolation(pruned, w.out(), w.in()).isEmpty());
        assertEquals(1.0, TwoFourConformance.conformance(pruned, w.out(), w.in()));
    }

    @Property(tries = 150)
    void conformanceAgreesWithCountingGroups(@ForAll("weights") Weight w) {
        int groups = Math.ceilDiv(w.in(), 4);
        int conforming = 0;
        Optional<int[]> first = Optional.empty();
        for (int row = 0; row < w.out(); row++) {
            for (int group = 0; group < groups; group++) {
                int nonZeros = 0;
                for (int column = 4 * group; column < Math.min(4 * group + 4, w.in()); column++) {
                    nonZeros += w.values()[row * w.in() + column] != 0f ? 1 : 0;
                }
                if (nonZeros <= 2) {
                    conforming++;
                } else if (first.isEmpty()) {
                    first = Optional.of(new int[] {row, group, nonZeros});
                }
            }
        }
        double conformance = TwoFourConformance.conformance(w.values(), w.out(), w.in());
        assertEquals((double) conforming / (w.out() * groups), conformance);
        var violation = TwoFourConformance.firstViolation(w.values(), w.out(), w.in());
        assertEquals(first.isPresent(), violation.isPresent());
        first.ifPresent(expected -> {
            assertEquals(expected[0], violation.orElseThrow().row());
            assertEquals(expected[1], violation.orElseThrow().group());
            assertEquals(expected[2], violation.orElseThrow().nonZeros());
        });
    }

    @Property(tries = 200)
    void compressThenDecompressGivesThePrunedWeightRoundedToDtype(@ForAll("weights") Weight w,
            @ForAll("halfTypes") DType dtype) {
        float[] pruned = TwoFourPruning.prune(w.values(), w.out(), w.in());
        TwoFourWeights compressed = TwoFourWeights.compress(pruned, w.out(), w.in(), dtype);

        float[] expected = new float[pruned.length];
        for (int i = 0; i < pruned.length; i++) {
            expected[i] = HalfFloats.roundTo(dtype, pruned[i]);
        }
        assertArrayEquals(withoutSignedZeros(expected), withoutSignedZeros(compressed.decompress()));

        for (int row = 0; row < compressed.paddedOut(); row++) {
            for (int group = 0; group < compressed.paddedIn() / 4; group++) {
                assertEquals(referenceNibble(pruned, w, row, group), compressed.nibbleAt(row, group),
                        "row " + row + ", group " + group);
            }
        }

        float[] padded = compressed.decompressPadded();
        for (int row = 0; row < compressed.paddedOut(); row++) {
            for (int column = 0; column < compressed.paddedIn(); column++) {
                if (row >= w.out() || column >= w.in()) {
                    assertEquals(0f, padded[row * compressed.paddedIn() + column], "padding at " + row + "," + column);
                }
            }
        }
    }

    /** Sorts each group by magnitude, lower column first on ties, and keeps the first two. */
    private static float[] referencePrune(Weight w) {
        float[] pruned = new float[w.values().length];
        for (int row = 0; row < w.out(); row++) {
            for (int start = 0; start < w.in(); start += 4) {
                List<Integer> columns = new ArrayList<>();
                for (int column = start; column < Math.min(start + 4, w.in()); column++) {
                    columns.add(column);
                }
                int base = row * w.in();
                columns.sort(Comparator.<Integer>comparingDouble(c -> -Math.abs(w.values()[base + c]))
                        .thenComparingInt(c -> c));
                for (int column : columns.subList(0, Math.min(2, columns.size()))) {
                    pruned[base + column] = w.values()[base + column];
                }
            }
        }
        return pruned;
    }

    /** Kept positions: the non-zeros, completed with the lowest zero positions; padding groups are (0, 1). */
    private static int referenceNibble(float[] pruned, Weight w, int row, int group) {
        List<Integer> kept = new ArrayList<>();
        for (int position = 0; position < 4; position++) {
            int column = 4 * group + position;
            if (row < w.out() && column < w.in() && pruned[row * w.in() + column] != 0f) {
                kept.add(position);
            }
        }
        for (int position = 0; kept.size() < 2; position++) {
            if (!kept.contains(position)) {
                kept.add(position);
            }
        }
        kept.sort(null);
        return kept.get(0) | (kept.get(1) << 2);
    }

    /** Decompression cannot restore the sign of a zero it did not store, and the kernel does not care. */
    private static float[] withoutSignedZeros(float[] values) {
        float[] normalized = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            normalized[i] = values[i] + 0f;
        }
        return normalized;
    }
}
