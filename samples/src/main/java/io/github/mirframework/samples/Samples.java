package io.github.mirframework.samples;

import io.github.mirframework.samples.availabilitydemo.AvailabilityDemoCommand;
import io.github.mirframework.samples.bcbdemo.BcbDemoCommand;
import io.github.mirframework.samples.chatdemo.ChatCommand;
import io.github.mirframework.samples.keygen.KeygenCommand;
import io.github.mirframework.samples.pingpong.PingPongCommand;
import io.github.mirframework.tools.bench.BenchCommand;
import io.github.mirframework.tools.mircat.MircatCommand;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the samples jar: one subcommand per sample or tool. */
@Command(
    name = "mir-samples",
    mixinStandardHelpOptions = true,
    version = "Mir-Java samples 0.1.0",
    description = "Mir-Java sample protocols and tools.",
    subcommands = {
      ChatCommand.class,
      KeygenCommand.class,
      PingPongCommand.class,
      BcbDemoCommand.class,
      AvailabilityDemoCommand.class,
      MircatCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Samples implements Runnable {

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    // gRPC and Netty log through java.util.logging: send that to slf4j (logback) like everything
    // else.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    System.exit(
        new CommandLine(new Samples()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }
}
