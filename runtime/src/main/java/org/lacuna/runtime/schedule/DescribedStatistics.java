package org.lacuna.runtime.schedule;

import java.util.AbstractMap;
import java.util.Map;
import java.util.Set;

/**
 * A layer's {@link LayerStatistics#describe()}, made when first read: a decision keeps it for explanations and JSON,
 * but some statistics cost real work (a convolution's tile redundancies sort its kernel map's rows), which a layer
 * that only runs should never pay for. Read-only; thread-safe.
 */
final class DescribedStatistics extends AbstractMap<String, Object> {
    private final LayerStatistics statistics;
    private volatile Map<String, Object> described;

    DescribedStatistics(LayerStatistics statistics) {
        this.statistics = statistics;
    }

    private Map<String, Object> described() {
        Map<String, Object> d = described;
        if (d == null) {
            synchronized (this) {
                d = described;
                if (d == null) {
                    d = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(statistics.describe()));
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
