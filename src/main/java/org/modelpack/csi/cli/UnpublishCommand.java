package org.modelpack.csi.cli;

import csi.v1.Csi.NodeUnpublishVolumeRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.admin.v1.GetVolumeRequest;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "unpublish", mixinStandardHelpOptions = true,
    description = {"Act as kubelet: NodeUnpublishVolume a target over the CSI socket.",
        "Exits 1 when the volume was not published at the target: the call is still made (the "
            + "driver then changes nothing, as it touches only mounts it made for the volume)."})
final class UnpublishCommand implements Callable<Integer> {
  private static final int TIMEOUT_SECONDS = 120;

  @Spec CommandSpec spec;
  @Mixin EndpointOptions endpoint;

  @Option(names = "--volume-id", required = true, description = "Volume id")
  String volumeId;

  @Option(names = "--target", required = true, paramLabel = "DIR",
      converter = OptionConverters.AbsolutePath.class,
      description = "Absolute directory the volume is mounted at")
  Path target;

  @Override
  public Integer call() {
    Path socket = endpoint.socket();
    boolean published;
    try (CsiClient client = EndpointOptions.connect(socket)) {
      published = isPublishedAtTarget(client);
      client.node().withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS).nodeUnpublishVolume(
          NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId)
              .setTargetPath(target.toString()).build());
    } catch (StatusRuntimeException e) {
      throw GrpcFailures.of(e, socket, TIMEOUT_SECONDS + " s");
    }
    if (!published) {
      throw new CliFailure("volume " + volumeId + " is not published at " + target
          + "; nothing was unmounted");
    }
    spec.commandLine().getOut().println("unpublished " + volumeId + " from " + target);
    return 0;
  }

  private boolean isPublishedAtTarget(CsiClient client) {
    try {
      return client.volumeAdmin().withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .getVolume(GetVolumeRequest.newBuilder().setVolumeId(volumeId).build())
          .getTargetPathsList().contains(target.toString());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }
}
