package org.modelpack.csi.csi;

import csi.v1.ControllerGrpc;
import csi.v1.IdentityGrpc;
import csi.v1.NodeGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.admin.v1.StoreAdminGrpc;
import org.modelpack.csi.admin.v1.VolumeAdminGrpc;

/** A CSI gRPC client over a unix socket, as kubelet would connect; used by the CLI and tests. */
public final class CsiClient implements AutoCloseable {
  /**
   * One event loop for every client of the process, on a daemon thread, never shut down: a call
   * whose stream closes while its client is being closed (the driver killed under it) still
   * needs the loop to finish, and a terminated loop would leave that call waiting for ever.
   */
  private static final EventLoopGroup GROUP =
      new EpollEventLoopGroup(1, new DefaultThreadFactory("csi-client", true));

  private final ManagedChannel channel;

  public CsiClient(Path socket) {
    this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .eventLoopGroup(GROUP)
        .channelType(EpollDomainSocketChannel.class)
        .usePlaintext()
        .build();
  }

  public IdentityGrpc.IdentityBlockingStub identity() {
    return IdentityGrpc.newBlockingStub(channel);
  }

  /** The driver's own operator service, served on the same socket. */
  public StoreAdminGrpc.StoreAdminBlockingStub storeAdmin() {
    return StoreAdminGrpc.newBlockingStub(channel);
  }

  /** The driver's view of one volume (state, targets, pull progress), on the same socket. */
  public VolumeAdminGrpc.VolumeAdminBlockingStub volumeAdmin() {
    return VolumeAdminGrpc.newBlockingStub(channel);
  }

  public NodeGrpc.NodeBlockingStub node() {
    return NodeGrpc.newBlockingStub(channel);
  }

  /** The Controller service, where the driver serves it ({@code serve --mode controller|all}). */
  public ControllerGrpc.ControllerBlockingStub controller() {
    return ControllerGrpc.newBlockingStub(channel);
  }

  /** For a call the caller waits for while doing something else (showing progress). */
  public NodeGrpc.NodeFutureStub nodeFuture() {
    return NodeGrpc.newFutureStub(channel);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
