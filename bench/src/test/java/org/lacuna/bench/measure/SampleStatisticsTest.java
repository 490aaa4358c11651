package org.lacuna.bench.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SampleStatisticsTest {
    private static final double EXACT = 1e-12;

    @Test
    void medianOfOddCountIsTheMiddleSample() {
        assertEquals(3.0, SampleStatistics.of(5, 1, 3, 4, 2).median(), EXACT);
    }

    @Test
    void medianOfEvenCountAveragesTheTwoMiddleSamples() {
        assertEquals(2.5, SampleStatistics.of(4, 1, 3, 2).median(), EXACT);
    }

    @Test
    void percentilesInterpolateLikeNumpy() {
        // numpy.percentile([1..10], 90) == 9.1, ([1..10], 10) == 1.9
        SampleStatistics stats = SampleStatistics.of(10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
        assertEquals(9.1, stats.percentile(90), 1e-9);
        assertEquals(1.9, stats.percentile(10), 1e-9);
        assertEquals(1.0, stats.percentile(0), EXACT);
        assertEquals(10.0, stats.percentile(100), EXACT);
    }

    @Test
    void minMaxMeanAndCount() {
        SampleStatistics stats = SampleStatistics.of(2, 8, 5);
        assertEquals(2.0, stats.min(), EXACT);
        assertEquals(8.0, stats.max(), EXACT);
        assertEquals(5.0, stats.mean(), EXACT);
        assertEquals(3, stats.count());
    }

    @Test
    void oneSampleIsEveryStatistic() {
        SampleStatistics stats = SampleStatistics.of(0.25);
        assertEquals(0.25, stats.median(), EXACT);
        assertEquals(0.25, stats.percentile(90), EXACT);
    }

    @Test
    void anOutlierMovesTheMeanNotTheMedian() {
        SampleStatistics stats = SampleStatistics.of(1, 1, 1, 1, 100);
        assertEquals(1.0, stats.median(), EXACT);
        assertEquals(20.8, stats.mean(), 1e-9);
    }

    @Test
    void doesNotReorderTheCallersArray() {
        double[] samples = {3, 1, 2};
        SampleStatistics.of(samples);
        assertEquals(3.0, samples[0], EXACT);
    }

    @Test
    void refusesNoSamplesNonFiniteSamplesAndPercentilesOutOfRange() {
        assertThrows(IllegalArgumentException.class, SampleStatistics::of);
        assertThrows(IllegalArgumentException.class, () -> SampleStatistics.of(1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> SampleStatistics.of(1).percentile(101));
        assertThrows(IllegalArgumentException.class, () -> SampleStatistics.of(1).percentile(-1));
    }
}
