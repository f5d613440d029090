package org.modelpack.csi.server;

import io.grpc.BindableService;
import java.io.IOException;
import java.util.List;
import org.modelpack.csi.config.DriverConfig;
import org.modelpack.csi.csi.ControllerService;
import org.modelpack.csi.csi.CsiServer;
import org.modelpack.csi.csi.IdentityService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve --mode controller}: Identity and Controller on the socket, nothing else. It
 * touches no root_dir, opens no store and mounts nothing (it runs in a Deployment next to
 * csi-provisioner, on any node), so several may run at once; the provisioner's leader election
 * picks the one that is asked.
 */
public final class ControllerPlugin implements Plugin {
  private static final Logger log = LoggerFactory.getLogger(ControllerPlugin.class);

  private final CsiServer server;

  private ControllerPlugin(CsiServer server) {
    this.server = server;
  }

  public static ControllerPlugin start(DriverConfig config) throws IOException {
    List<BindableService> services = List.of(
        // Always ready: it has no disk or registry to wait for.
        new IdentityService(config.serviceName(), Version.get(), () -> true, true),
        new ControllerService(config.serviceName()));
    CsiServer server = CsiServer.start(config.csiEndpoint(), services);
    log.info("{} {} serving the controller", config.serviceName(), Version.get());
    return new ControllerPlugin(server);
  }

  @Override
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    server.close();
  }
}
