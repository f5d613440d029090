package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** One run of the CLI and what it printed: in this JVM, or through the packaged jar. */
record CliRun(int exitCode, String out, String err) {

  /** Runs the CLI in this JVM, exactly as {@code main} would but with its output captured. */
  static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  /** Runs {@code java -jar <packaged jar> args…} as its own process. */
  static CliRun ofJar(String... args) throws IOException, InterruptedException {
    Path jar = Path.of(System.getProperty("driver.jar", "target/model-csi-driver.jar"));
    assertThat(jar).as("packaged driver jar (run via mvn verify)").exists();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).start();
    p.getOutputStream().close();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p, true));
    String out = read(p, false);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("CLI finished").isTrue();
    return new CliRun(p.exitValue(), out, err.join());
  }

  private static String read(Process p, boolean stderr) {
    try {
      return new String((stderr ? p.getErrorStream() : p.getInputStream()).readAllBytes());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The run failed with {@code exitCode} and said so in exactly one line on stderr,
   * {@code model-csi-driver <command>: …}, containing {@code fragments} and no stack trace.
   */
  CliRun failedWithOneLine(int expectedExit, String command, String... fragments) {
    assertThat(err.lines().toList()).as("stderr of %s", this).singleElement()
        .satisfies(line -> assertThat(line)
            .startsWith("model-csi-driver " + command + ": ")
            .contains(fragments)
            .doesNotContain("Exception")
            .doesNotContain("at org.")
            .doesNotContain("\tat "));
    assertThat(exitCode).as("exit code of %s", this).isEqualTo(expectedExit);
    return this;
  }
}
