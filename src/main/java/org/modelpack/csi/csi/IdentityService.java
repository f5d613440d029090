package org.modelpack.csi.csi;

import com.google.protobuf.BoolValue;
import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.GetPluginCapabilitiesResponse;
import csi.v1.Csi.GetPluginInfoRequest;
import csi.v1.Csi.GetPluginInfoResponse;
import csi.v1.Csi.PluginCapability;
import csi.v1.Csi.ProbeRequest;
import csi.v1.Csi.ProbeResponse;
import csi.v1.IdentityGrpc;
import io.grpc.stub.StreamObserver;
import java.util.function.BooleanSupplier;

/** CSI Identity: who we are and whether we are ready. */
public final class IdentityService extends IdentityGrpc.IdentityImplBase {
  private final String name;
  private final String version;
  private final BooleanSupplier ready;
  /** True when the same socket serves the Controller service. */
  private final boolean controller;

  public IdentityService(String name, String version, BooleanSupplier ready,
      boolean controller) {
    this.name = name;
    this.version = version;
    this.ready = ready;
    this.controller = controller;
  }

  @Override
  public void getPluginInfo(GetPluginInfoRequest request,
      StreamObserver<GetPluginInfoResponse> observer) {
    GrpcErrors.respond("GetPluginInfo", observer, () -> GetPluginInfoResponse.newBuilder()
        .setName(name).setVendorVersion(version).build());
  }

  /**
   * CONTROLLER_SERVICE only where the Controller is served (csi-provisioner asks this socket).
   * No topology constraints: a model volume can be used on every node.
   */
  @Override
  public void getPluginCapabilities(GetPluginCapabilitiesRequest request,
      StreamObserver<GetPluginCapabilitiesResponse> observer) {
    GrpcErrors.respond("GetPluginCapabilities", observer, () -> {
      GetPluginCapabilitiesResponse.Builder response = GetPluginCapabilitiesResponse.newBuilder();
      if (controller) {
        response.addCapabilities(PluginCapability.newBuilder().setService(
            PluginCapability.Service.newBuilder()
                .setType(PluginCapability.Service.Type.CONTROLLER_SERVICE)));
      }
      return response.build();
    });
  }

  @Override
  public void probe(ProbeRequest request, StreamObserver<ProbeResponse> observer) {
    GrpcErrors.respond("Probe", observer, () -> ProbeResponse.newBuilder()
        .setReady(BoolValue.of(ready.getAsBoolean())).build());
  }
}
