package io.github.mirframework.tools.mircat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import picocli.CommandLine;

/**
 * Opens the timeline page in a real headless Chromium (Debian's {@code chromium} and {@code
 * chromium-driver}; run only where {@code /usr/bin/chromedriver} exists, see the samples POM's
 * {@code browser-tests} profile; CI installs them). Set {@code -Dmir.timeline.screenshot=FILE} to
 * keep a screenshot.
 */
@Timeout(180)
class TimelineBrowserTest {
  @TempDir Path dir;
  private ChromeDriver driver;

  @BeforeEach
  void startBrowser() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(Path.of("/usr/bin/chromium").toString());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1400,700",
        "--disable-dev-shm-usage");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile())
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  @AfterEach
  void stopBrowser() {
    if (driver != null) {
      driver.quit();
    }
  }

  private Path page(List<Path> logs) throws Exception {
    Path html = dir.resolve("run.html");
    TimelineCommand cmd = new TimelineCommand();
    new CommandLine(cmd).parseArgs(TimelineCommandTest.args(logs, html).toArray(String[]::new));
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertThat(cmd.run(quiet, quiet)).isZero();
    return html;
  }

  private Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  @Test
  void thePageDrawsTheLanesAndArrowsOfAKnownRunAndShowsAClickedEvent() throws Exception {
    Path html = page(TimelineFixture.record(dir.resolve("rec")));
    driver.get(html.toUri().toString());

    assertThat(js("return window.mirTimeline.laneCount()")).isEqualTo(2L);
    assertThat(js("return window.mirTimeline.eventCount()")).isEqualTo(6L);
    @SuppressWarnings("unchecked")
    Map<String, Object> drawn = (Map<String, Object>) js("return window.mirTimeline.drawn()");
    assertThat(drawn).containsEntry("events", 6L).containsEntry("arrows", 2L);

    // Per node and module: node 0 has net, node 1 has app.
    js("window.mirTimeline.setLaneMode('module')");
    assertThat(js("return window.mirTimeline.laneCount()")).isEqualTo(2L);
    js("window.mirTimeline.setLaneMode('node')");

    // Click the second send (event 1): its content is shown.
    @SuppressWarnings("unchecked")
    Map<String, Object> pos = (Map<String, Object>) js("return window.mirTimeline.positionOf(1)");
    WebElement canvas = driver.findElement(By.id("canvas"));
    int w = canvas.getRect().getWidth();
    int h = canvas.getRect().getHeight();
    int x = (int) Math.round(((Number) pos.get("x")).doubleValue() - w / 2.0);
    int y = (int) Math.round(((Number) pos.get("y")).doubleValue() - h / 2.0);
    new Actions(driver).moveToElement(canvas, x, y).click().perform();
    assertThat(js("return window.mirTimeline.selected()")).isEqualTo(1L);
    String detail = driver.findElement(By.id("detail")).getText();
    assertThat(detail).contains("\"destinations\"").contains("</script><b>x</b>");
    assertThat(driver.findElement(By.id("detailHead")).getText()).contains("SendMessage");

    // A type filter hides events and the arrows that touch them.
    for (WebElement cb : driver.findElements(By.cssSelector("#typeFilters input"))) {
      if (cb.findElement(By.xpath("..")).getText().startsWith("SendMessage")) {
        cb.click();
      }
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> filtered = (Map<String, Object>) js("return window.mirTimeline.drawn()");
    assertThat(filtered).containsEntry("events", 4L).containsEntry("arrows", 0L);

    String screenshot = System.getProperty("mir.timeline.screenshot", "");
    if (!screenshot.isBlank()) {
      Files.write(Path.of(screenshot), driver.getScreenshotAs(OutputType.BYTES));
    }
    List<LogEntry> errors =
        driver.manage().logs().get(LogType.BROWSER).getAll().stream()
            .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
            .toList();
    assertThat(errors).as("console errors").isEmpty();
  }

  @Test
  void aRealRecordedRunLoadsWithoutConsoleErrors() throws Exception {
    Path rec = dir.resolve("pp");
    io.github.mirframework.samples.pingpong.PingPongCommand pp =
        new io.github.mirframework.samples.pingpong.PingPongCommand();
    new CommandLine(pp)
        .parseArgs(
            "--transport",
            "INPROCESS",
            "--rounds",
            "3",
            "--period-ms",
            "10",
            "--record",
            rec.toString());
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertThat(pp.run(quiet)).isZero();
    Path html = page(List.of(rec.resolve("node-0"), rec.resolve("node-1")));
    driver.get(html.toUri().toString());
    assertThat(js("return window.mirTimeline.laneCount()")).isEqualTo(2L);
    long arrows = (Long) js("return window.mirTimeline.arrowCount()");
    assertThat(arrows).as("pings and pongs matched").isGreaterThanOrEqualTo(6L);
    String screenshot = System.getProperty("mir.timeline.screenshot.pingpong", "");
    if (!screenshot.isBlank()) {
      Files.write(Path.of(screenshot), driver.getScreenshotAs(OutputType.BYTES));
    }
    assertThat(
            driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .toList())
        .isEmpty();
  }
}
