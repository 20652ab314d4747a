package io.github.mirframework.factory;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.Arrays;
import java.util.List;

/**
 * A logger that records every entry, for checking what a module logged (Mir's testlogger): an
 * isolated logback context, so it neither sees nor disturbs other tests' logging.
 */
final class LogCapture {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  LogCapture() {
    LoggerContext context = new LoggerContext();
    logger = context.getLogger("capture");
    logger.setLevel(Level.TRACE);
    logger.setAdditive(false);
    appender.setContext(context);
    appender.start();
    logger.addAppender(appender);
  }

  /** The logger to hand to the module under test. */
  org.slf4j.Logger logger() {
    return logger;
  }

  /** Checks that nothing (more) was logged. */
  void checkEmpty() {
    assertThat(entries()).as("log entries left").isEmpty();
  }

  /** Checks and removes the oldest entry. */
  void checkFirstEntry(Level level, String message, Object... args) {
    assertThat(entries()).as("log entries").isNotEmpty();
    ILoggingEvent first = entries().get(0);
    assertThat(describe(first)).isEqualTo(describe(level, message, args));
    entries().remove(0);
  }

  /** Checks that some entry matches and removes it. */
  void checkAnyEntry(Level level, String message, Object... args) {
    String wanted = describe(level, message, args);
    for (int i = 0; i < entries().size(); i++) {
      if (describe(entries().get(i)).equals(wanted)) {
        entries().remove(i);
        return;
      }
    }
    assertThat(entries().stream().map(LogCapture::describe).toList())
        .as("log entries")
        .contains(wanted);
  }

  private List<ILoggingEvent> entries() {
    return appender.list;
  }

  private static String describe(ILoggingEvent e) {
    Object[] args = e.getArgumentArray() == null ? new Object[0] : e.getArgumentArray();
    return describe(e.getLevel(), e.getMessage(), args);
  }

  private static String describe(Level level, String message, Object[] args) {
    return level + " " + message + " " + Arrays.toString(args);
  }
}
