package org.lacuna.bench.gpu;

/**
 * What a result is compared with: a vendor library on the same problem (cuSPARSE, cuBLAS), or a bound such as the
 * time to stream the bytes at the measured copy bandwidth.
 *
 * @param speedup {@code anchorMedianMs / medianMs} of the anchored result: above 1 means faster than the anchor
 */
public record Anchor(String name, double anchorMedianMs, double speedup) {
}
