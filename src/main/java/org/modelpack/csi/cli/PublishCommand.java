package org.modelpack.csi.cli;

import csi.v1.Csi.NodeGetCapabilitiesRequest;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.ProbeRequest;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.config.DriverConfig;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "publish", mixinStandardHelpOptions = true,
    description = {"Act as kubelet: NodePublishVolume a model into a directory over the CSI socket.",
        "While the driver pulls, the call is repeated as kubelet repeats it, and the pull's "
            + "progress is shown (a bar on a terminal, else a line at most every 5 s)."})
final class PublishCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin EndpointOptions endpoint;

  @Option(names = "--volume-id", required = true, description = "Volume id, e.g. csi-demo")
  String volumeId;

  @Option(names = "--target", required = true, paramLabel = "DIR",
      converter = OptionConverters.AbsolutePath.class,
      description = "Absolute directory to mount at (created if missing)")
  Path target;

  @Option(names = "--reference",
      description = "Model reference, e.g. 127.0.0.1:5000/models/demo:v1; without it, a "
          + "dynamic volume (an empty workspace filled through its API socket, see mount)")
  String reference;

  @Option(names = "--service-name", defaultValue = DriverConfig.DEFAULT_SERVICE_NAME,
      description = "Prefix of the volume attribute keys (default: ${DEFAULT-VALUE})")
  String serviceName;

  @Option(names = "--attribute", paramLabel = "KEY=VALUE",
      description = "Extra volume_context entry (repeatable)")
  Map<String, String> attributes = new LinkedHashMap<>();

  @Option(names = "--writable",
      description = "A writable volume: private copies of the files and a read-write mount "
          + "(sends <service-name>/writable=true and readonly=false)")
  boolean writable;

  @Option(names = "--access-mode", paramLabel = "MODE",
      description = "CSI access mode (default: SINGLE_NODE_READER_ONLY, or SINGLE_NODE_WRITER "
          + "with --writable)")
  AccessMode.Mode accessMode;

  @Option(names = "--timeout", defaultValue = "3600", paramLabel = "SECONDS",
      converter = OptionConverters.PositiveSeconds.class,
      description = "How long to wait for the volume, pull included (default: ${DEFAULT-VALUE})")
  Duration timeout;

  @Override
  public Integer call() throws InterruptedException {
    Path socket = endpoint.socket();
    NodePublishVolumeRequest request = request();
    PrintWriter out = spec.commandLine().getOut();
    ProgressPrinter progress = new ProgressPrinter(out, System.console() != null, volumeId,
        System::nanoTime);
    Deadline deadline = Deadline.after(timeout.toMillis(), TimeUnit.MILLISECONDS);
    long start;
    try (CsiClient client = EndpointOptions.connect(socket)) {
      // Connect and load the client's gRPC classes first, so the reported time is the driver's
      // work, not this short-lived JVM warming up.
      client.identity().withDeadline(deadline).probe(ProbeRequest.getDefaultInstance());
      client.node().withDeadline(deadline)
          .nodeGetCapabilities(NodeGetCapabilitiesRequest.getDefaultInstance());
      start = System.nanoTime();
      new RetryingPublisher(client, timeout, deadline, progress).publish(request);
    } catch (StatusRuntimeException e) {
      throw GrpcFailures.of(e, socket, "--timeout " + timeout.toSeconds() + " s");
    }
    out.printf("published %s at %s in %d ms%n", volumeId, request.getTargetPath(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    return 0;
  }

  private NodePublishVolumeRequest request() {
    Map<String, String> context = new LinkedHashMap<>(attributes);
    if (reference != null) {
      context.put(serviceName + "/reference", reference);
    }
    if (writable) {
      context.put(serviceName + "/writable", "true");
    }
    AccessMode.Mode mode = accessMode != null ? accessMode
        : writable ? AccessMode.Mode.SINGLE_NODE_WRITER : AccessMode.Mode.SINGLE_NODE_READER_ONLY;
    return NodePublishVolumeRequest.newBuilder()
        .setVolumeId(volumeId)
        .setTargetPath(target.toString())
        .setReadonly(!writable)
        .setVolumeCapability(VolumeCapability.newBuilder()
            .setMount(VolumeCapability.MountVolume.getDefaultInstance())
            .setAccessMode(AccessMode.newBuilder().setMode(mode)))
        .putAllVolumeContext(context)
        .build();
  }
}
