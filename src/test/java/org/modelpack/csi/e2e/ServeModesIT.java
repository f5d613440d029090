package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.testing.CsiRequests.mountCapability;
import static org.modelpack.csi.testing.CsiRequests.statusOf;

import csi.v1.Csi.ControllerGetCapabilitiesRequest;
import csi.v1.Csi.ControllerServiceCapability;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodeGetInfoRequest;
import csi.v1.Csi.NodeServiceCapability;
import csi.v1.Csi.PluginCapability;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve --mode}: which services the packaged driver offers, and what it touches. */
class ServeModesIT {
  @TempDir Path tmp;

  private DriverProcess start(String config, List<String> args) throws Exception {
    Path file = Files.writeString(tmp.resolve("driver.yaml"), config);
    return DriverProcess.start(file, tmp.resolve("plugin/csi.sock"), tmp.resolve("driver.log"),
        null, args);
  }

  @Test
  void controllerModeServesIdentityAndControllerOnlyAndTouchesNoRootDir() throws Exception {
    Path root = tmp.resolve("root");
    // The flag wins over the config's mode.
    try (DriverProcess driver = start("""
        root_dir: %s
        csi_endpoint: unix://%s/plugin/csi.sock
        mode: node
        """.formatted(root, tmp), List.of("--mode", "controller"))) {
      assertThat(driver.csi().identity().getPluginCapabilities(
          GetPluginCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
          .extracting(c -> c.getService().getType())
          .containsExactly(PluginCapability.Service.Type.CONTROLLER_SERVICE);
      assertThat(driver.csi().controller().controllerGetCapabilities(
          ControllerGetCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
          .extracting(c -> c.getRpc().getType())
          .containsExactly(ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME);
      assertThat(driver.csi().controller().createVolume(CreateVolumeRequest.newBuilder()
          .setName("pvc-c").addVolumeCapabilities(mountCapability(Mode.MULTI_NODE_READER_ONLY))
          .putParameters("model.csi.modelpack.org/reference", "registry.invalid/m:v1").build())
          .getVolume().getVolumeId()).startsWith("pvc-c.ro.");
      assertThat(statusOf(() -> driver.csi().node().nodeGetInfo(
          NodeGetInfoRequest.getDefaultInstance())).getCode())
          .isEqualTo(Status.Code.UNIMPLEMENTED);
    }
    assertThat(root).as("a controller has no root_dir").doesNotExist();
  }

  @Test
  void nodeModeIsTheDefaultAndAdvertisesStagingButNoController() throws Exception {
    try (DriverProcess driver = start("""
        root_dir: %s
        csi_endpoint: unix://%s/plugin/csi.sock
        """.formatted(tmp.resolve("root"), tmp), List.of())) {
      assertThat(driver.csi().identity().getPluginCapabilities(
          GetPluginCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList()).isEmpty();
      assertThat(driver.csi().node().nodeGetCapabilities(
          NodeGetCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList())
          .extracting(c -> c.getRpc().getType())
          .containsExactlyInAnyOrder(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
              NodeServiceCapability.RPC.Type.GET_VOLUME_STATS);
      assertThat(statusOf(() -> driver.csi().controller().controllerGetCapabilities(
          ControllerGetCapabilitiesRequest.getDefaultInstance())).getCode())
          .isEqualTo(Status.Code.UNIMPLEMENTED);
    }
  }
}
