package org.lacuna.bench.report;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * The report's PNG plots, drawn with XChart: per suite the speed-up of each case over its anchor and the fraction of
 * the device's peak it reached, and the sparsity options' cosine to dense against their speed-up.
 */
final class BenchPlots {
    static final int WIDTH = 1200;
    static final int HEIGHT = 700;

    private BenchPlots() {
    }

    /** Writes every plot the run has data for into {@code dir}, named {@code <prefix>-<plot>.png}; returns the names. */
    static List<String> write(BenchRun run, Path dir, String prefix) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<String> written = new ArrayList<>();
        Map<String, List<ReportRow>> bySuite = new LinkedHashMap<>();
        for (ReportRow row : run.rows()) {
            bySuite.computeIfAbsent(row.suite(), s -> new ArrayList<>()).add(row);
        }
        for (Map.Entry<String, List<ReportRow>> suite : bySuite.entrySet()) {
            List<ReportRow> anchored = suite.getValue().stream().filter(r -> r.speedup() != null).toList();
            if (!anchored.isEmpty()) {
                written.add(save(speedUps(suite.getKey(), anchored), dir, prefix + "-speedup-" + suite.getKey()));
            }
            List<ReportRow> peaked = suite.getValue().stream().filter(r -> r.fractionOfPeak() != null).toList();
            if (!peaked.isEmpty()) {
                written.add(save(peakFractions(suite.getKey(), peaked), dir, prefix + "-peak-" + suite.getKey()));
            }
        }
        if (run.sparsity() != null && !run.sparsity().rows().isEmpty()) {
            written.add(save(accuracyAgainstSpeed(run.sparsity(), true), dir, prefix + "-sparsity-mean-cosine"));
            written.add(save(accuracyAgainstSpeed(run.sparsity(), false), dir, prefix + "-sparsity-min-cosine"));
        }
        return written;
    }

    static CategoryChart speedUps(String suite, List<ReportRow> rows) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Lacuna's speed-up over each anchor (" + suite + "; above 1: Lacuna is faster; log scale)")
                .xAxisTitle("case vs anchor").yAxisTitle("anchor time / Lacuna time").build();
        styleBars(chart);
        // Speed-ups span 0.3x to 30x: a log axis, whose range must be set since bars would otherwise start at 0.
        double min = rows.stream().mapToDouble(ReportRow::speedup).min().orElse(1);
        double max = rows.stream().mapToDouble(ReportRow::speedup).max().orElse(1);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setYAxisMin(Math.min(min, 1) / 2);
        chart.getStyler().setYAxisMax(Math.max(max, 1) * 2);
        chart.addSeries("speed-up", rows.stream().map(r -> r.id() + " vs " + r.anchor()).toList(),
                rows.stream().map(ReportRow::speedup).toList());
        return chart;
    }

    static CategoryChart peakFractions(String suite, List<ReportRow> rows) {
        String peak = rows.get(0).peakKind();
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Fraction of the device's peak (" + suite + ": " + peak + ")")
                .xAxisTitle("case").yAxisTitle("% of " + peak).build();
        styleBars(chart);
        chart.addSeries("% of peak", rows.stream().map(ReportRow::id).toList(),
                rows.stream().map(r -> 100 * r.fractionOfPeak()).toList());
        return chart;
    }

    static XYChart accuracyAgainstSpeed(SparsityRecord sparsity, boolean mean) {
        String which = mean ? "mean" : "minimum";
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Sparsity: " + which + " cosine to the dense embeddings against speed-up (" + sparsity.model()
                        + ", " + sparsity.sentences() + " sentences)")
                .xAxisTitle("speed-up over dense").yAxisTitle(which + " cosine to dense").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(14);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (SparsityRecord.Row row : sparsity.rows()) {
            chart.addSeries(row.label(), new double[] {row.speedup()},
                    new double[] {mean ? row.meanCosine() : row.minCosine()});
        }
        return chart;
    }

    private static void styleBars(CategoryChart chart) {
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLabelRotation(60);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setOverlapped(true);
    }

    private static String save(Chart<?, ?> chart, Path dir, String name) throws IOException {
        String file = name + ".png";
        try (OutputStream out = Files.newOutputStream(dir.resolve(file))) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
        return file;
    }
}
