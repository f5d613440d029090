package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Ordinary mistakes on the command line: each is one line on stderr naming the problem, exit 2
 * for a bad option or config file and 1 for a failed operation, and never a stack trace.
 */
class CliErrorsTest {
  @TempDir Path tmp;

  @Test
  void endpointWithoutUnixSchemeIsAUsageError() {
    CliRun.of("info", "--endpoint", "/path")
        .failedWithOneLine(2, "info", "--endpoint", "'/path' is not a unix socket URL");
  }

  @Test
  void configFileThatIsNotUtf8IsNamedAsSuch() throws Exception {
    Path jar = Files.write(tmp.resolve("driver.jar"), new byte[] {'P', 'K', 3, 4, (byte) 0xFF,
        (byte) 0xC3, 0x28, 0});
    CliRun.of("info", "--config", jar.toString())
        .failedWithOneLine(2, "info", "config file " + jar + " is not UTF-8 text");
  }

  @Test
  void configFileThatIsNotYamlNamesTheProblemAndWhereItIs() throws Exception {
    Path bad = Files.writeString(tmp.resolve("bad.yaml"), "root_dir: [unclosed\n");
    CliRun.of("info", "--config", bad.toString())
        .failedWithOneLine(2, "info", "config file " + bad + " is not valid YAML: ",
            "line 2, column 1");
  }

  @Test
  void missingConfigFileIsNamed() {
    Path missing = tmp.resolve("nope.yaml");
    CliRun.of("store", "list", "--config", missing.toString())
        .failedWithOneLine(2, "store list", "config file " + missing + " does not exist");
  }

  @Test
  void evictTargetSizeThatIsNotASizeIsAUsageErrorNamingTheValue() {
    CliRun.of("store", "evict", "--target-size", "lots")
        .failedWithOneLine(2, "store evict", "--target-size", "'lots' is not a size");
  }

  @Test
  void evictRefusesBothOfItsExclusiveOptions() {
    CliRun.of("store", "evict", "--all-unreferenced", "--target-size", "1GiB")
        .failedWithOneLine(2, "store evict", "--all-unreferenced", "--target-size",
            "mutually exclusive");
  }

  @Test
  void unknownLogLevelIsAUsageErrorAndKnownOnesAnyCase() {
    CliRun.of("serve", "--log-level", "loud")
        .failedWithOneLine(2, "serve", "--log-level", "'loud'");
    CommandLine.ParseResult parsed = Main.commandLine()
        .parseArgs("serve", "--log-level", "Debug");
    LogLevel level = parsed.subcommand().matchedOptionValue("--log-level", null);
    assertThat(level).isEqualTo(LogLevel.DEBUG);
  }

  @Test
  void timeoutBelowOneSecondIsAUsageError() {
    CliRun.of("publish", "--volume-id", "v", "--target", tmp.resolve("t").toString(),
        "--reference", "r/m:1", "--timeout", "0")
        .failedWithOneLine(2, "publish", "--timeout", "'0'");
  }

  @Test
  void publishToARelativeTargetIsAUsageError() {
    CliRun.of("publish", "--volume-id", "v", "--target", "mnt/model", "--reference", "r/m:1")
        .failedWithOneLine(2, "publish", "--target", "'mnt/model' must be an absolute path");
  }

  @Test
  void missingRequiredOptionIsAUsageError() {
    CliRun.of("unpublish", "--volume-id", "v")
        .failedWithOneLine(2, "unpublish", "--target");
  }

  @Test
  void missingSocketIsNamedBeforeDialling() {
    Path socket = tmp.resolve("csi.sock");
    CliRun.of("publish", "--endpoint", "unix://" + socket, "--volume-id", "v", "--target",
        tmp.resolve("t").toString(), "--reference", "r/m:1")
        .failedWithOneLine(1, "publish", "no driver socket at " + socket,
            "is `model-csi-driver serve` running?");
    assertThat(tmp.resolve("t")).doesNotExist();
  }

  @Test
  void socketNobodyListensOnNamesTheSocketAndTheCause() throws Exception {
    Path socket = tmp.resolve("stale.sock");
    // What a killed driver leaves: the socket file, and nobody accepting on it.
    try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.bind(UnixDomainSocketAddress.of(socket));
    }
    CliRun.of("info", "--endpoint", "unix://" + socket)
        .failedWithOneLine(1, "info", "cannot reach the driver at " + socket,
            "Connection refused");
  }

  @Test
  void pushOfAMissingDirectoryIsNamed() {
    Path dir = tmp.resolve("no-model");
    CliRun.of("push", dir.toString(), "127.0.0.1:5000/models/demo:v1")
        .failedWithOneLine(1, "push", "directory " + dir + " does not exist");
  }

  @Test
  void pushOfAFileInsteadOfADirectoryIsNamed() throws Exception {
    Path file = Files.writeString(tmp.resolve("config.json"), "{}");
    CliRun.of("push", file.toString(), "127.0.0.1:5000/models/demo:v1")
        .failedWithOneLine(1, "push", file + " is not a directory");
  }

  @Test
  void pushToABadReferenceIsAUsageErrorNamingIt() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("model"));
    CliRun.of("push", dir.toString(), "127.0.0.1:5000/Models/Demo!:v1")
        .failedWithOneLine(2, "push", "REFERENCE", "127.0.0.1:5000/Models/Demo!:v1");
  }

  @Test
  void pushToAnUnreachableRegistryNamesIt() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("model"));
    Files.writeString(dir.resolve("config.json"), "{}");
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    CliRun.of("push", dir.toString(), "127.0.0.1:" + closedPort + "/models/demo:v1",
        "--docker-config", tmp.resolve("docker").toString())
        .failedWithOneLine(1, "push", "cannot push 127.0.0.1:" + closedPort + "/models/demo:v1",
            "cannot reach 127.0.0.1:" + closedPort);
  }

  @Test
  void unexpectedErrorIsOneLineWithItsClassAndATraceOnlyAtDebug() {
    CommandLine cli = Main.commandLine().getSubcommands().get("info");
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));
    CliErrorHandler handler = new CliErrorHandler();

    int code = handler.handleExecutionException(
        new IllegalStateException("boom\n  on two lines"), cli, null);
    assertThat(code).isEqualTo(1);
    assertThat(err.toString().lines()).containsExactly("model-csi-driver info: unexpected "
        + "error: java.lang.IllegalStateException: boom on two lines");

    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Level before = root.getLevel();
    root.setLevel(Level.DEBUG);
    try {
      err.getBuffer().setLength(0);
      handler.handleExecutionException(new IllegalStateException("boom"), cli, null);
      assertThat(err.toString()).contains("\tat org.modelpack.csi.cli.CliErrorsTest");
    } finally {
      root.setLevel(before);
    }
  }

  @Test
  void veryLongMessagesAreCutToOneBoundedLine() {
    CommandLine cli = Main.commandLine().getSubcommands().get("push");
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));

    new CliErrorHandler().handleExecutionException(
        new CliFailure("registry said: " + "<html>\n".repeat(5_000)), cli, null);

    assertThat(err.toString().lines()).singleElement()
        .satisfies(line -> assertThat(line.length()).isLessThanOrEqualTo(
            "model-csi-driver push: ".length() + OneLine.MAX_CHARS));
  }
}
