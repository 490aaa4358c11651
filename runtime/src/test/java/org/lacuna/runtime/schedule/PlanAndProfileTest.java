package org.lacuna.runtime.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lacuna.runtime.data.DType;

/** A plan explains every layer in text and JSON; a profile is a valid Chrome trace. */
class PlanAndProfileTest {
    @TempDir
    Path folder;

    @Test
    void theExplanationNamesStatisticsCandidatesTimesChoiceAndReason() throws Exception {
        TestTables.ScriptedClock clock = new TestTables.ScriptedClock();
        Scheduler scheduler = new Scheduler(TestTables.CPU, TestTables.cpu(), TuningStore.inMemory(), Policy.auto(),
                clock::timer);
        LinearStatistics s = new LinearStatistics(512, 768, 3072, DType.F16, 0.5, 1.0, 0.75);
        scheduler.decide("encoder.0.fc1", s, List.of(
                clock.taking(LinearCandidates.predicted("cpu", "blas-dense", s, DType.F16), 9.0),
                clock.taking(LinearCandidates.predicted("cpu", "vector-dense", s, DType.F16), 7.0)));
        Plan plan = scheduler.plan();
        String text = plan.explain();
        for (String expected : List.of("encoder.0.fc1", "tokens=512", "blockDensity=0.750", "blas-dense",
                "vector-dense", "9.000 ms", "7.000 ms", "chose vector-dense (MEASURED", "test table")) {
            assertTrue(text.contains(expected), expected + " missing from\n" + text);
        }
        JsonNode json = new ObjectMapper().readTree(plan.toJson());
        JsonNode layer = json.get("layers").get(0);
        assertEquals("encoder.0.fc1", layer.get("layer").asText());
        assertEquals("vector-dense", layer.get("decision").get("chosen").asText());
        assertEquals(512, layer.get("decision").get("statistics").get("tokens").asInt());
        assertEquals(2, layer.get("decision").get("candidates").size());
        assertTrue(json.get("choosingMillis").asDouble() >= 0);
    }

    @Test
    void aProfileIsWrittenAsAChromeTrace() throws Exception {
        TestTables.ScriptedClock clock = new TestTables.ScriptedClock();
        Profiler profiler = new Profiler(clock::timer);
        int[] ran = new int[1];
        profiler.time("before", "x", "linear", () -> ran[0]++);
        assertTrue(profiler.events().isEmpty(), "not recording until started");
        profiler.start();
        clock.nextMillis = 1.5;
        profiler.time("fc1", "blas-dense", "linear", () -> ran[0]++);
        profiler.time("conv", "fused-blocked", "sparse-conv", () -> ran[0]++);
        List<Profiler.Event> events = profiler.stop();
        assertEquals(3, ran[0]);
        assertEquals(2, events.size());
        Path file = folder.resolve("trace.json");
        profiler.writeChromeTrace(file);
        JsonNode trace = new ObjectMapper().readTree(file.toFile());
        JsonNode first = trace.get("traceEvents").get(0);
        assertEquals("fc1", first.get("name").asText());
        assertEquals("X", first.get("ph").asText());
        assertEquals(1500.0, first.get("dur").asDouble(), 1e-9);
        assertEquals("blas-dense", first.get("args").get("candidate").asText());
        assertEquals("sparse-conv", trace.get("traceEvents").get(1).get("cat").asText());
    }
}
