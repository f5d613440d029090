package org.modelpack.csi.e2e;

import static org.awaitility.Awaitility.await;

import csi.v1.Csi.ProbeRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.csi.CsiClient;

/**
 * The packaged driver jar run as its own process, as a node runs it, with a CSI client on its
 * socket. {@link #kill()} is SIGKILL: no shutdown hook, no finally block, nothing of the driver
 * gets to run, which is what a node's OOM killer or a power cut does to it.
 */
final class DriverProcess implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final CsiClient csi;

  private DriverProcess(Process process, CsiClient csi) {
    this.process = process;
    this.csi = csi;
  }

  /** The packaged jar, as failsafe passes it (see pom.xml). */
  static Path jar() {
    return Path.of(System.getProperty("driver.jar", "target/model-csi-driver.jar"));
  }

  /**
   * Starts {@code serve --config config} and returns once the driver answers a Probe on
   * {@code socket}, that is once its start (and the cleanup of whatever a killed predecessor
   * left) is over. Output goes to {@code log}; {@code umask} (octal, e.g. "000") is the one it
   * runs with, null for the test's own.
   */
  static DriverProcess start(Path config, Path socket, Path log, String umask)
      throws IOException {
    return start(config, socket, log, umask, List.of());
  }

  /** As above, with more arguments to {@code serve} (e.g. {@code --mode all}). */
  static DriverProcess start(Path config, Path socket, Path log, String umask,
      List<String> serveArgs) throws IOException {
    Process p = launch(config, log, umask, serveArgs);
    try {
      // A killed driver leaves its socket file behind, and the new one may even get the same
      // inode number, so the file proves nothing: the driver is up when a connection to the
      // socket is accepted. Only then is the gRPC channel made, which would otherwise back off
      // for a second or more after a refused connection.
      await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(20)).until(() -> {
        if (!p.isAlive()) {
          throw new IllegalStateException("driver exited with " + p.exitValue() + "; log:\n"
              + Files.readString(log));
        }
        return listening(socket);
      });
      CsiClient client = new CsiClient(socket);
      await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(20))
          .ignoreExceptionsInstanceOf(StatusRuntimeException.class)
          .until(() -> client.identity().withDeadlineAfter(5, TimeUnit.SECONDS)
              .probe(ProbeRequest.getDefaultInstance()).getReady().getValue());
      return new DriverProcess(p, client);
    } catch (RuntimeException | Error e) {
      p.destroyForcibly();
      throw e;
    }
  }

  /** Starts {@code serve --config config} without waiting for anything. */
  static Process launch(Path config, Path log, String umask) throws IOException {
    return launch(config, log, umask, List.of());
  }

  private static Process launch(Path config, Path log, String umask, List<String> serveArgs)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-jar", jar().toString(), "serve", "--config", config.toString()));
    command.addAll(serveArgs);
    if (umask != null) {
      command.addAll(0, List.of("/bin/sh", "-c", "umask " + umask + " && exec \"$@\"", "sh"));
    }
    return new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
  }

  static boolean listening(Path socket) {
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      return true;
    } catch (IOException e) {
      return false; // absent, or stale: nobody listens
    }
  }

  CsiClient csi() {
    return csi;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, then waits until the process is gone (its mounts stay: they are the kernel's). */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("driver " + process.pid() + " survived SIGKILL for 30 s");
    }
    csi.close();
  }

  /** SIGTERM, as an upgrade stops the driver: its shutdown hook runs; waits until it is gone. */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("driver " + process.pid() + " did not stop in 60 s");
    }
    csi.close();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    } else {
      csi.close();
    }
  }
}
