package io.github.mirframework.tools.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
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
 * Draws the time series of a run as PNG files (JFreeChart, headless): {@code throughput.png} and
 * {@code latency.png}. The measured window is shaded. Stateless.
 */
final class Plots {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 500;

  private Plots() {}

  /** Writes the plots of {@code samples} into {@code dir} and returns their paths. */
  static List<Path> write(List<BenchRun.Sample> samples, Path dir, String subtitle)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYSeries tput = new XYSeries("applied req/s");
    XYSeries p50 = new XYSeries("p50");
    XYSeries p99 = new XYSeries("p99");
    XYSeries max = new XYSeries("max");
    double windowStart = Double.NaN;
    double windowEnd = Double.NaN;
    double previous = 0;
    for (BenchRun.Sample s : samples) {
      tput.add(s.second(), s.throughput());
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
    Path t = dir.resolve("throughput.png");
    Path l = dir.resolve("latency.png");
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
    return List.of(t, l);
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
      NumberAxis linear = new NumberAxis(yLabel);
      linear.setAutoRangeIncludesZero(true);
      y = linear;
    }
    XYPlot plot = new XYPlot(data, x, y, renderer(data.getSeriesCount()));
    return finish(new JFreeChart(title, plot), subtitle, plot, windowStart, windowEnd);
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
