package org.lacuna.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertLinesMatch;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lacuna.runtime.error.DeviceOutOfMemoryException;
import org.lacuna.runtime.error.InvalidInputException;

class CaseSweepBenchmarkTest {
    /** Three cases; "huge" runs out of device memory. */
    private static final class Sweep extends CaseSweepBenchmark<String> {
        final List<String> measured = new ArrayList<>();

        Sweep() {
            super("sweep-test");
        }

        @Override
        public List<BenchResult> run(BenchContext context) {
            return runEach(List.of("small", "huge", "medium"), "given", ", note", c -> {
                if (c.equals("huge")) {
                    throw new DeviceOutOfMemoryException("test", 1L << 40, "");
                }
                measured.add(c);
                return List.of(result(c));
            });
        }

        @Override
        String id(String c) {
            return c;
        }

        @Override
        String summary(String c, List<BenchResult> results) {
            return c + " measured " + results.size();
        }
    }

    static BenchResult result(String name) {
        return new BenchResult(name, Map.of(), "device", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, null, null, null,
                null, null);
    }

    @Test
    void aCaseTooBigForTheDeviceIsSkippedAndTheSweepGoesOn() throws Exception {
        Sweep sweep = new Sweep();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        List<BenchResult> results;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            results = sweep.run(null);
        } finally {
            System.setOut(previous);
        }
        assertEquals("sweep-test", sweep.name());
        assertEquals(List.of("small", "medium"), sweep.measured);
        assertEquals(List.of("small", "medium"), results.stream().map(BenchResult::name).toList());
        // assertLinesMatch takes each expected line literally or, failing that, as a regular expression.
        assertLinesMatch(List.of("   sweep-test: 3 case(s), selection 'given', note",
                        "   \\[1/3\\] small measured 1 \\(\\d+\\.\\d s\\)",
                        "   \\[2/3\\] huge skipped: .*out of device memory allocating 1099511627776 bytes.*",
                        "   \\[3/3\\] medium measured 1 \\(\\d+\\.\\d s\\)"),
                printed.toString(StandardCharsets.UTF_8).lines().toList());
    }

    @Test
    void anyOtherFailureEndsTheSweep() {
        CaseSweepBenchmark<String> failing = new CaseSweepBenchmark<>("failing") {
            @Override
            public List<BenchResult> run(BenchContext context) {
                return runEach(List.of("bad"), "given", "", c -> {
                    throw InvalidInputException.argument("test", "bad case");
                });
            }

            @Override
            String id(String c) {
                return c;
            }

            @Override
            String summary(String c, List<BenchResult> measured) {
                return c;
            }
        };
        assertThrows(InvalidInputException.class, () -> failing.run(null));
    }
}
