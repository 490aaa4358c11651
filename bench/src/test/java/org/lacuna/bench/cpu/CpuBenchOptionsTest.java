package org.lacuna.bench.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.lacuna.bench.measure.MeasurementPlan;
import org.lacuna.bench.report.BenchCommand;
import picocli.CommandLine;

/** What {@code lacuna-bench-cpu}'s and {@code lacuna bench}'s shared options make of a command line. */
class CpuBenchOptionsTest {
    private static CpuBenchMain parsed(String... args) {
        CpuBenchMain main = new CpuBenchMain();
        new CommandLine(main).parseArgs(args);
        return main;
    }

    @Test
    void withoutMeasurementOptionsARunMeasuresByItsPlan() {
        assertEquals(CpuBenchMain.FULL_PLAN, parsed().plan());
        assertEquals(CpuBenchMain.QUICK_PLAN, parsed("--quick").plan());
        assertEquals(CpuBenchMain.QUICK_PLAN, CpuBenchMain.configured(true, new CpuThreadsOption(1),
                new CpuSuiteOptions()).plan());
    }

    @Test
    void eachMeasurementOptionGivenReplacesThatValueOfTheQuickOrTheFullPlan() {
        MeasurementPlan quick = parsed("--quick", "--samples", "7", "--max-ms-per-case", "12.5").plan();
        assertEquals(new MeasurementPlan(1, 5, 7, 2, 12.5, 0.5), quick);
        MeasurementPlan full = parsed("--warmup-ms", "9", "--min-samples", "4").plan();
        assertEquals(new MeasurementPlan(1, 9, 50, 4, 3_000, 1.0), full);
    }

    /** The values --quick's help quotes, given on a full run's line, are the quick plan's. */
    @Test
    void theQuickHelpQuotesTheQuickPlansValues() {
        CommandLine.Model.CommandSpec spec = new CommandLine(new CpuBenchMain()).getCommandSpec();
        String quickHelp = String.join(" ", spec.findOption("--quick").description());
        Matcher quoted = Pattern.compile("options not given: (.*)\\)\\.$").matcher(quickHelp);
        assertTrue(quoted.find(), quickHelp);
        MeasurementPlan asQuoted = parsed(quoted.group(1).replace(",", "").split(" ")).plan();
        MeasurementPlan quick = CpuBenchMain.QUICK_PLAN;
        assertEquals(List.of(quick.samples(), quick.minSamples(), quick.warmupMillis(), quick.maxMeasureMillis()),
                List.of(asQuoted.samples(), asQuoted.minSamples(), asQuoted.warmupMillis(), asQuoted.maxMeasureMillis()));
        assertEquals("Samples kept however slow a case (default: " + CpuBenchMain.FULL_PLAN.minSamples() + "; quick: "
                + quick.minSamples() + ").", String.join(" ", spec.findOption("--min-samples").description()));
        String usage = new CommandLine(new CpuBenchMain()).getUsageMessage().replaceAll("\\s+", " ");
        assertTrue(usage.contains("options not given: --samples " + quick.samples() + ","), usage);
        assertEquals(List.of("5", "12.5", "3000"), List.of(CpuBenchHelp.number(5.0), CpuBenchHelp.number(12.5),
                CpuBenchHelp.number(3_000)));
    }

    @Test
    void fewerSamplesThanTheKeptMinimumLowerTheMinimum() {
        assertEquals(2, parsed("--samples", "2").plan().minSamples());
        assertEquals(3, parsed("--samples", "3", "--min-samples", "8").plan().minSamples());
    }

    @Test
    void bothCommandsReadTheirThreadsFromTheSharedOption() {
        assertEquals(2, parsed().threads.count());
        assertEquals(5, parsed("--threads", "5").threads.count());
        BenchCommand bench = new BenchCommand();
        CommandLine line = new CommandLine(bench);
        line.parseArgs("--threads", "3");
        assertEquals(3, line.getCommandSpec().findOption("--threads").<Integer>getValue());
        line.parseArgs();
        assertEquals(2, line.getCommandSpec().findOption("--threads").<Integer>getValue());
    }

    @Test
    void aThreadCountBelowOneIsRefusedWhileParsing() {
        for (String count : new String[] {"0", "-3"}) {
            CommandLine.ParameterException refused = assertThrows(CommandLine.ParameterException.class,
                    () -> new CommandLine(new BenchCommand()).parseArgs("--threads", count));
            assertTrue(refused.getMessage().contains("--threads must be positive, got " + count), refused.getMessage());
            assertThrows(CommandLine.ParameterException.class, () -> parsed("--threads", count));
        }
    }

    @Test
    void theThreadCountBecomesTheCpuBackendsUnlessOneIsConfigured() {
        assumeTrue(System.getenv(CpuThreadsOption.ENVIRONMENT) == null, "LACUNA_CPU_THREADS is set here");
        String before = System.getProperty(CpuThreadsOption.PROPERTY);
        try {
            System.clearProperty(CpuThreadsOption.PROPERTY);
            new CpuThreadsOption(3).applyToCpuBackend();
            assertEquals("3", System.getProperty(CpuThreadsOption.PROPERTY));
            new CpuThreadsOption(7).applyToCpuBackend();
            assertEquals("3", System.getProperty(CpuThreadsOption.PROPERTY), "a configured count stays");
            System.setProperty(CpuThreadsOption.PROPERTY, " ");
            new CpuThreadsOption(5).applyToCpuBackend();
            assertEquals("5", System.getProperty(CpuThreadsOption.PROPERTY), "a blank setting counts as none");
        } finally {
            if (before == null) {
                System.clearProperty(CpuThreadsOption.PROPERTY);
            } else {
                System.setProperty(CpuThreadsOption.PROPERTY, before);
            }
        }
    }
}
