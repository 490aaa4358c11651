package org.lacuna.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParamsTest {
    @Test
    void namesKeepTheirOrderAndTheMapStaysOpenForMore() {
        Map<String, Object> p = Params.of("tokens", 128, "in", 768, "dtype", "f16", "causal", false);
        assertEquals(List.of("tokens", "in", "dtype", "causal"), List.copyOf(p.keySet()));
        assertEquals(List.of(128, 768, "f16", false), List.copyOf(p.values()));
        p.put("extra", 1.5);
        assertEquals("extra", List.copyOf(p.keySet()).get(4));
        assertEquals(0, Params.of().size());
    }

    @Test
    void oddCountsAndNonStringNamesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Params.of("tokens"));
        assertThrows(IllegalArgumentException.class, () -> Params.of(1, 2));
    }
}
