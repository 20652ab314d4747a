package io.github.mirframework.tools.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws the time series of a run as PNG files (JFreeChart, headless): {@code throughput.png},
 * {@code latency.png} and {@code heap.png}. The measured window is shaded. Stateless.
 */
final class Plots {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 500;

  private Plots() {}

  /**
   * Writes the plots of the time series of {@code results} into {@code dir}; returns their paths.
   */
  static List<Path> write(BenchResults results, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<BenchRun.Sample> samples = results.samples;
    String subtitle = results.title();
    XYSeries tput = new XYSeries("applied req/s");
    XYSeries p50 = new XYSeries("p50");
    XYSeries p99 = new XYSeries("p99");
    XYSeries max = new XYSeries("max");
    XYSeries heapUsed = new XYSeries("heap in use");
    XYSeries heapAfterGc = new XYSeries("heap after the last GC (none forced)");
    XYSeries retained = new XYSeries("retained heap (after a forced full GC)");
    double windowStart = Double.NaN;
    double windowEnd = Double.NaN;
    double previous = 0;
    for (BenchRun.Sample s : samples) {
      tput.add(s.second(), s.throughput());
      heapUsed.add(s.second(), s.heapUsedBytes() / 1e6);
      if (s.heapAfterGcBytes() >= 0) {
        heapAfterGc.add(s.second(), s.heapAfterGcBytes() / 1e6);
      }
      if (!Double.isNaN(s.p50Ms())) {
        p50.add(s.second(), s.p50Ms());
        p99.add(s.second(), s.p99Ms());
        max.add(s.second(), s.maxMs());
      }
      if (s.phase() == BenchRun.Phase.MEASURE) {
        if (Double.isNaN(windowStart)) {
          windowStart = previous;
        }
        windowEnd = s.second();
      }
      previous = s.second();
    }
    if (!Double.isNaN(windowStart)) {
      if (results.heapAfterWarmupBytes > 0) {
        retained.add(windowStart, results.heapAfterWarmupBytes / 1e6);
      }
      if (results.heapAfterGcBytes > 0) {
        retained.add(previous, results.heapAfterGcBytes / 1e6);
      }
    }
    Path t = dir.resolve("throughput.png");
    Path l = dir.resolve("latency.png");
    Path h = dir.resolve("heap.png");
    ChartUtils.saveChartAsPNG(
        t.toFile(),
        chart(
            "Throughput",
            subtitle,
            "requests / s",
            collection(tput),
            windowStart,
            windowEnd,
            false),
        WIDTH,
        HEIGHT);
    ChartUtils.saveChartAsPNG(
        l.toFile(),
        chart(
            "Latency (submit to applied)",
            subtitle,
            "ms (log scale)",
            collection(p50, p99, max),
            windowStart,
            windowEnd,
            true),
        WIDTH,
        HEIGHT);
    XYPlot heapPlot =
        new XYPlot(
            heapAfterGc.isEmpty()
                ? collection(heapUsed, retained)
                : collection(heapUsed, heapAfterGc, retained),
            new NumberAxis("seconds since the load started"),
            linearAxis("MB"),
            heapRenderer(heapAfterGc.isEmpty() ? 1 : 2));
    ChartUtils.saveChartAsPNG(
        h.toFile(),
        finish(
            new JFreeChart(
                String.format(
                    Locale.ROOT,
                    "Heap (retained: %,.0f MB after warm-up, %,.0f MB at the end, %+.1f %%)",
                    results.heapAfterWarmupBytes / 1e6,
                    results.heapAfterGcBytes / 1e6,
                    results.heapGrowthPercent()),
                heapPlot),
            subtitle,
            heapPlot,
            windowStart,
            windowEnd),
        WIDTH,
        HEIGHT);
    return List.of(t, l, h);
  }

  private static XYSeriesCollection collection(XYSeries... series) {
    XYSeriesCollection c = new XYSeriesCollection();
    for (XYSeries s : series) {
      c.addSeries(s);
    }
    return c;
  }

  private static JFreeChart chart(
      String title,
      String subtitle,
      String yLabel,
      XYSeriesCollection data,
      double windowStart,
      double windowEnd,
      boolean logScale) {
    NumberAxis x = new NumberAxis("seconds since the load started");
    org.jfree.chart.axis.ValueAxis y;
    if (logScale) {
      org.jfree.chart.axis.LogarithmicAxis log = new org.jfree.chart.axis.LogarithmicAxis(yLabel);
      log.setStrictValuesFlag(false);
      log.setAllowNegativesFlag(false);
      log.setLog10TickLabelsFlag(false);
      y = log;
    } else {
      y = linearAxis(yLabel);
    }
    XYPlot plot = new XYPlot(data, x, y, renderer(data.getSeriesCount()));
    return finish(new JFreeChart(title, plot), subtitle, plot, windowStart, windowEnd);
  }

  private static NumberAxis linearAxis(String label) {
    NumberAxis linear = new NumberAxis(label);
    linear.setAutoRangeIncludesZero(true);
    return linear;
  }

  /**
   * Lines for the {@code lines} sampled series (the heap in use thin and light: it saw-tooths
   * between collections), and large dots without a line for the last series, the two retained-heap
   * figures.
   */
  private static XYLineAndShapeRenderer heapRenderer(int lines) {
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    r.setSeriesPaint(0, new Color(0xaec7e8));
    r.setSeriesStroke(0, new BasicStroke(1f));
    if (lines == 2) {
      r.setSeriesPaint(1, new Color(0x1f77b4));
      r.setSeriesStroke(1, new BasicStroke(2f));
    }
    r.setSeriesPaint(lines, new Color(0xd62728));
    r.setSeriesLinesVisible(lines, false);
    r.setSeriesShapesVisible(lines, true);
    r.setSeriesShape(lines, new java.awt.geom.Ellipse2D.Double(-6, -6, 12, 12));
    return r;
  }

  private static XYLineAndShapeRenderer renderer(int series) {
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    Color[] colors = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0xd62728)};
    for (int i = 0; i < series; i++) {
      r.setSeriesPaint(i, colors[i % colors.length]);
      r.setSeriesStroke(i, new BasicStroke(2f));
    }
    return r;
  }

  private static JFreeChart finish(
      JFreeChart c, String subtitle, XYPlot plot, double windowStart, double windowEnd) {
    c.addSubtitle(new TextTitle(subtitle));
    c.setBackgroundPaint(Color.WHITE);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    if (!Double.isNaN(windowStart)) {
      IntervalMarker m = new IntervalMarker(windowStart, windowEnd);
      m.setPaint(new Color(0x2ca02c));
      m.setAlpha(0.08f);
      m.setLabel("measured");
      plot.addDomainMarker(m);
    }
    return c;
  }
}
