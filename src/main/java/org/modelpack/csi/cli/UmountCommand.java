package org.modelpack.csi.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.modelpack.csi.dynamic.DynamicApiClient;
import org.modelpack.csi.dynamic.DynamicApiClient.Answer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "umount", mixinStandardHelpOptions = true,
    description = "Inside a pod: unmount a model from the pod's dynamic volume (a pull still "
        + "running is cancelled). Succeeds when there is no such mount.")
final class UmountCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin WorkdirOptions workdir;

  @Parameters(index = "0", paramLabel = "MOUNT_ID", description = "The mount to remove")
  String mountId;

  @Override
  public Integer call() {
    String path = workdir.mountsPath() + "/" + mountId;
    try (DynamicApiClient client = workdir.connect()) {
      Answer a = WorkdirOptions.send(client, "DELETE", path, null, Duration.ofMinutes(3));
      if (a.status() != 204) {
        throw WorkdirOptions.failure("umount " + mountId, a);
      }
    }
    spec.commandLine().getOut().println("unmounted " + mountId);
    return 0;
  }
}
