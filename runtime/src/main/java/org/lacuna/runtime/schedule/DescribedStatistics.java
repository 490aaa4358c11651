package org.lacuna.runtime.schedule;

import java.lang.ref.WeakReference;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.lacuna.runtime.sparseconv.KernelMap;
import org.lacuna.runtime.sparseconv.MapStatistics;
import org.lacuna.runtime.sparseconv.TileOrder;

/**
 * A layer's {@link LayerStatistics#describe()} as a decision keeps it, for explanations and JSON. A scheduler keeps
 * its decisions as long as it lives, so this must not keep the layer's data alive: a convolution's statistics hold
 * its kernel map, and the map its coordinate sets. What is cheap is copied when the decision is made; a
 * convolution's tile redundancies, which sort the map's rows (work a layer that only runs should never pay for), are
 * computed when first read, through a weak reference to the map. If the map has been collected by then, they read
 * {@value #NOT_COMPUTED}. Read-only; thread-safe.
 */
final class DescribedStatistics extends AbstractMap<String, Object> {
    /** The value of a statistic that was never computed and whose data is gone. */
    static final String NOT_COMPUTED = "not computed";

    private final Map<String, Object> eager;
    /** The map whose redundancies are still to be read, or null where nothing is; cleared once read. */
    private final WeakReference<KernelMap> redundanciesOf;
    /**
     * Statistics that hold no layer data (a linear's, an attention's: a few numbers), described when first read: a
     * decision read from a warm store is made for every layer of a new scheduler's first forward, and is seldom
     * explained.
     */
    private final LayerStatistics numbers;
    private volatile Map<String, Object> described;

    private DescribedStatistics(Map<String, Object> eager, KernelMap redundanciesOf, LayerStatistics numbers) {
        this.eager = eager;
        this.redundanciesOf = redundanciesOf == null ? null : new WeakReference<>(redundanciesOf);
        this.numbers = numbers;
        if (redundanciesOf == null && numbers == null) {
            described = Collections.unmodifiableMap(eager);
        }
    }

    private DescribedStatistics(Map<String, Object> eager, KernelMap redundanciesOf) {
        this(eager, redundanciesOf, null);
    }

    static DescribedStatistics of(LayerStatistics statistics) {
        if (!(statistics instanceof ConvolutionStatistics conv)) {
            return new DescribedStatistics(null, null, statistics);
        }
        Map<String, Object> counts = conv.describeCounts();
        MapStatistics known = conv.map().statistics();
        for (TileOrder order : TileOrder.values()) {
            if (!known.knowsRedundancy(MapStatistics.IMPLICIT_GEMM_TILE_ROWS, order)) {
                return new DescribedStatistics(counts, conv.map());
            }
        }
        // A GPU's candidates computed them already: keep the numbers, not the map.
        counts.putAll(ConvolutionStatistics.describeRedundancies(conv.map()));
        return new DescribedStatistics(counts, null);
    }

    private Map<String, Object> described() {
        Map<String, Object> d = described;
        if (d == null) {
            synchronized (this) {
                d = described;
                if (d == null && numbers != null) {
                    d = Collections.unmodifiableMap(new LinkedHashMap<>(numbers.describe()));
                    described = d;
                } else if (d == null) {
                    Map<String, Object> m = new LinkedHashMap<>(eager);
                    KernelMap map = redundanciesOf.get();
                    if (map != null) {
                        m.putAll(ConvolutionStatistics.describeRedundancies(map));
                    } else {
                        for (TileOrder order : TileOrder.values()) {
                            m.put(ConvolutionStatistics.redundancyKey(order), NOT_COMPUTED);
                        }
                    }
                    redundanciesOf.clear();
                    d = Collections.unmodifiableMap(m);
                    described = d;
                }
            }
        }
        return d;
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
        return described().entrySet();
    }

    @Override
    public Object get(Object key) {
        return described().get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return described().containsKey(key);
    }

    @Override
    public int size() {
        return described().size();
    }
}
