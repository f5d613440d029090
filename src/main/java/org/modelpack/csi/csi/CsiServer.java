package org.modelpack.csi.csi;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.fs.Dirs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The CSI gRPC server on a unix domain socket (netty epoll). */
public final class CsiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CsiServer.class);

  /** The socket's directory, when the driver creates it: kubelet and the registrar reach it. */
  public static final java.util.Set<java.nio.file.attribute.PosixFilePermission> SOCKET_DIR =
      PosixFilePermissions.fromString("rwxr-x---");

  private final Path socket;
  private final Server server;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  private CsiServer(Path socket, Server server, EventLoopGroup boss, EventLoopGroup workers) {
    this.socket = socket;
    this.server = server;
    this.boss = boss;
    this.workers = workers;
  }

  /**
   * Removes a stale socket file, then listens. The socket is bound under a temporary name,
   * tightened to 0660 and only then renamed to its real path, so nobody can ever connect
   * through a more permissive mode. A socket something still answers on is not stale: that is
   * another process's, and the start fails instead of taking it away.
   */
  public static CsiServer start(Path socket, List<BindableService> services) throws IOException {
    Path dir = socket.toAbsolutePath().getParent();
    Dirs.create(dir, SOCKET_DIR);
    if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.readAttributes(socket, java.nio.file.attribute.BasicFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS).isOther()) { // a socket is "other" to NIO
        throw new IOException("csi_endpoint " + socket + " exists and is not a socket; "
            + "remove it or choose another path");
      }
      if (answers(socket)) {
        throw new IOException("another process is serving on csi_endpoint unix://" + socket
            + "; stop it first");
      }
      Files.delete(socket);
      log.info("removed stale socket {}", socket);
    }
    Path binding = dir.resolve("." + socket.getFileName() + "." + ProcessHandle.current().pid());
    Files.deleteIfExists(binding);
    EventLoopGroup boss = new EpollEventLoopGroup(1);
    EventLoopGroup workers = new EpollEventLoopGroup(2);
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new DomainSocketAddress(binding.toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers);
    services.forEach(builder::addService);
    Server server = builder.build().start();
    Files.setPosixFilePermissions(binding, PosixFilePermissions.fromString("rw-rw----"));
    Files.move(binding, socket, StandardCopyOption.ATOMIC_MOVE);
    log.info("CSI server listening on unix://{}", socket);
    return new CsiServer(socket, server, boss, workers);
  }

  /** True when a process accepts connections on the unix socket at {@code socket}. */
  private static boolean answers(Path socket) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      return ch.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      return false; // refused: nobody listens; the file is a leftover
    }
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      log.warn("could not remove socket {}: {}", socket, e.getMessage());
    }
  }
}
