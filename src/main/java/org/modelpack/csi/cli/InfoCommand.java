package org.modelpack.csi.cli;

import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.GetPluginInfoResponse;
import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.ProbeRequest;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Ask the driver who it is and whether it is ready (Identity and Node info).")
final class InfoCommand implements Callable<Integer> {
  @Mixin EndpointOptions endpoint;

  @Override
  public Integer call() {
    try (CsiClient client = new CsiClient(endpoint.socket())) {
      var identity = client.identity().withDeadlineAfter(10, TimeUnit.SECONDS);
      var node = client.node().withDeadlineAfter(10, TimeUnit.SECONDS);
      GetPluginInfoResponse info = identity.getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
      System.out.println("name:                " + info.getName());
      System.out.println("vendor_version:      " + info.getVendorVersion());
      System.out.println("plugin capabilities: " + identity
          .getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance())
          .getCapabilitiesList());
      System.out.println("ready:               "
          + identity.probe(ProbeRequest.getDefaultInstance()).getReady().getValue());
      System.out.println("node_id:             "
          + node.nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId());
      System.out.println("node capabilities:   " + node
          .nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
          .getCapabilitiesList());
    } catch (StatusRuntimeException e) {
      System.err.println("info failed: " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription());
      return 1;
    }
    return 0;
  }
}
