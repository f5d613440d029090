package org.modelpack.csi.dynamic;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.fs.Dirs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Jetty server for every dynamic volume's API, with one unix-socket connector per volume:
 * the connector a request came in on names the volume it may manage. Threads: one selector per
 * connector, plus a few workers shared by all, which end when idle.
 *
 * <p>A socket's path must fit {@code sun_path} (107 bytes), which
 * {@code <root>/volumes/csi-<64 hex>/csi/csi.sock} does not under a root of ordinary length.
 * So the driver listens at {@code <root>/dynamic/<16 hex>.sock} and hard-links that socket into
 * the workspace as {@code csi/csi.sock}: connect(2) finds a socket by its inode, whatever name
 * leads to it (decision 1122). No process-wide chdir.
 */
final class ApiSockets implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ApiSockets.class);
  static final String DIR = "dynamic";
  /** sun_path is 108 bytes with its terminating NUL. */
  static final int MAX_SOCKET_PATH = 107;
  /** Workers for all volumes together; a request is short except a POST waiting for a pull. */
  private static final int WORKERS = 8;

  private final Path socketDir;
  private final Server server;
  private final QueuedThreadPool threads;
  private final Map<String, UnixDomainServerConnector> connectors = new ConcurrentHashMap<>();

  private ApiSockets(Path socketDir, Server server, QueuedThreadPool threads) {
    this.socketDir = socketDir;
    this.server = server;
    this.threads = threads;
  }

  /**
   * The sockets of the node's dynamic volumes under {@code <root>/dynamic}. Nothing is made or
   * started until the first volume is opened: a node without dynamic volumes runs no thread for
   * them and has no such directory.
   */
  static ApiSockets create(Path root, Handler handler) {
    QueuedThreadPool threads = new QueuedThreadPool(WORKERS, 1, 30_000);
    threads.setName("dynamic-api");
    threads.setDaemon(true);
    threads.setReservedThreads(0);
    Server server = new Server(threads);
    server.setHandler(handler);
    return new ApiSockets(root.resolve(DIR), server, threads);
  }

  /**
   * Removes the sockets (and inspect scratch files) a previous process left: the directory is
   * the driver's own. Call at start, before any volume is opened.
   */
  void clearLeftovers() throws IOException {
    if (!Files.isDirectory(socketDir)) {
      return;
    }
    try (var leftovers = Files.newDirectoryStream(socketDir)) {
      for (Path p : leftovers) {
        Files.deleteIfExists(p);
      }
    }
  }

  private void ensureStarted() throws IOException {
    Dirs.create(socketDir, Dirs.PRIVATE);
    if (server.isStarted()) {
      return;
    }
    try {
      server.start();
    } catch (Exception e) {
      throw new IOException("cannot start the dynamic-volume API server: " + e, e);
    }
  }

  /** The volume whose socket {@code connector} is, or null. */
  String volumeOf(Connector connector) {
    for (Map.Entry<String, UnixDomainServerConnector> e : connectors.entrySet()) {
      if (e.getValue() == connector) {
        return e.getKey();
      }
    }
    return null;
  }

  boolean serves(String volume) {
    return connectors.containsKey(volume);
  }

  /**
   * Listens for {@code volume} and links the socket at {@code link}; idempotent.
   *
   * @throws DriverException FAILED_PRECONDITION when root_dir is too long for a socket path
   */
  synchronized void open(String volume, Path link) throws IOException {
    if (connectors.containsKey(volume) && Files.exists(link)) {
      return;
    }
    close(volume, link);
    Path socket = socketPath(volume);
    if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
      throw new DriverException(ErrorKind.FAILED_PRECONDITION, "volume " + volume
          + ": the API socket " + socket + " is longer than the " + MAX_SOCKET_PATH
          + " bytes a unix socket path may have; use a shorter root_dir");
    }
    ensureStarted();
    UnixDomainServerConnector c = new UnixDomainServerConnector(server, 0, 1,
        new HttpConnectionFactory());
    c.setUnixDomainPath(socket);
    c.setIdleTimeout(5 * 60_000L); // a POST may wait long for its pull; the connection stays
    // The pool must cover the connector's selector thread, or Jetty refuses to start it.
    threads.setMaxThreads(WORKERS + connectors.size() + 1);
    server.addConnector(c);
    try {
      c.start();
      // The pod's user may be anyone; only the pod that mounts the workspace reaches the link.
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
      Files.deleteIfExists(link);
      Files.createLink(link, socket);
    } catch (Exception e) {
      stopQuietly(c);
      server.removeConnector(c);
      Files.deleteIfExists(link);
      Files.deleteIfExists(socket);
      throw e instanceof IOException io ? io
          : new IOException("cannot listen on " + socket + ": " + e, e);
    }
    connectors.put(volume, c);
    log.info("volume {}: dynamic-mount API listening on {}", volume, link);
  }

  /** Stops listening for {@code volume} and removes both names of its socket. */
  synchronized void close(String volume, Path link) throws IOException {
    UnixDomainServerConnector c = connectors.remove(volume);
    if (c != null) {
      stopQuietly(c);
      server.removeConnector(c);
      threads.setMaxThreads(Math.max(WORKERS + 1, WORKERS + connectors.size() + 1));
    }
    Files.deleteIfExists(link);
    Files.deleteIfExists(socketPath(volume));
  }

  /** A short, fixed name per volume: the first 64 bits of its id's SHA-256. */
  Path socketPath(String volume) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256")
          .digest(volume.getBytes(StandardCharsets.UTF_8));
      return socketDir.resolve(HexFormat.of().formatHex(h, 0, 8) + ".sock");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void stopQuietly(Connector c) {
    try {
      c.stop();
    } catch (Exception e) {
      log.warn("cannot stop {}: {}", c, e.toString());
    }
  }

  /** Stops the server; the sockets' files stay for the next start (which replaces them). */
  @Override
  public void close() {
    if (!server.isStarted()) {
      return;
    }
    try {
      server.stop();
    } catch (Exception e) {
      log.warn("cannot stop the dynamic-volume API server: {}", e.toString());
    }
  }
}
