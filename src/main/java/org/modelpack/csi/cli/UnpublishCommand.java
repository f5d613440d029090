package org.modelpack.csi.cli;

import csi.v1.Csi.NodeUnpublishVolumeRequest;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "unpublish", mixinStandardHelpOptions = true,
    description = "Act as kubelet: NodeUnpublishVolume a target over the CSI socket.")
final class UnpublishCommand implements Callable<Integer> {
  @Mixin EndpointOptions endpoint;

  @Option(names = "--volume-id", required = true, description = "Volume id")
  String volumeId;

  @Option(names = "--target", required = true, description = "Directory the volume is mounted at")
  Path target;

  @Override
  public Integer call() {
    try (CsiClient client = new CsiClient(endpoint.socket())) {
      client.node().withDeadlineAfter(120, TimeUnit.SECONDS).nodeUnpublishVolume(
          NodeUnpublishVolumeRequest.newBuilder().setVolumeId(volumeId)
              .setTargetPath(target.toAbsolutePath().normalize().toString()).build());
    } catch (StatusRuntimeException e) {
      System.err.println("unpublish failed: " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription());
      return 1;
    }
    System.out.println("unpublished " + volumeId + " from " + target);
    return 0;
  }
}
