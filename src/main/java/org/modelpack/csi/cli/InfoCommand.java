package org.modelpack.csi.cli;

import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.GetPluginInfoResponse;
import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.ProbeRequest;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Ask the driver who it is and whether it is ready (Identity and Node info).")
final class InfoCommand implements Callable<Integer> {
  private static final int TIMEOUT_SECONDS = EndpointOptions.QUERY_TIMEOUT_SECONDS;

  @Spec CommandSpec spec;
  @Mixin EndpointOptions endpoint;

  @Override
  public Integer call() {
    Path socket = endpoint.socket();
    PrintWriter out = spec.commandLine().getOut();
    try (CsiClient client = EndpointOptions.connect(socket)) {
      var identity = client.identity().withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      var node = client.node().withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      GetPluginInfoResponse info = identity.getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
      out.println("name:                " + info.getName());
      out.println("vendor_version:      " + info.getVendorVersion());
      out.println("plugin capabilities: " + identity
          .getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance())
          .getCapabilitiesList());
      out.println("ready:               "
          + identity.probe(ProbeRequest.getDefaultInstance()).getReady().getValue());
      out.println("node_id:             "
          + node.nodeGetInfo(NodeGetInfoRequest.getDefaultInstance()).getNodeId());
      out.println("node capabilities:   " + node
          .nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance())
          .getCapabilitiesList());
    } catch (StatusRuntimeException e) {
      throw GrpcFailures.of(e, socket, TIMEOUT_SECONDS + " s");
    }
    return 0;
  }
}
