package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.mountCapability;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.statusOf;

import csi.v1.Csi.CapacityRange;
import csi.v1.Csi.CreateVolumeRequest;
import csi.v1.Csi.DeleteVolumeRequest;
import csi.v1.Csi.GetPluginCapabilitiesRequest;
import csi.v1.Csi.NodeGetVolumeStatsRequest;
import csi.v1.Csi.NodeGetVolumeStatsResponse;
import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.NodeStageVolumeRequest;
import csi.v1.Csi.NodeUnpublishVolumeRequest;
import csi.v1.Csi.NodeUnstageVolumeRequest;
import csi.v1.Csi.PluginCapability;
import csi.v1.Csi.ValidateVolumeCapabilitiesRequest;
import csi.v1.Csi.Volume;
import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import csi.v1.Csi.VolumeUsage;
import io.grpc.Status;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.RegistryServer;

/**
 * PVC volumes end to end: the packaged jar serving controller and node on one socket
 * ({@code serve --mode all}), a real registry, real bind mounts, and a client playing
 * csi-provisioner and kubelet. The driver waits 0 s for a pull ({@code publish_wait_seconds:
 * 0}), so every stage that pulls answers ABORTED first, as one past kubelet's deadline does.
 */
class PvcVolumeIT {
  static final String SVC = "model.csi.modelpack.org";
  static final String REFERENCE = SVC + "/reference";

  @TempDir static Path tmp;
  static RegistryServer registry;
  static RegistryClient pusher;
  static DriverProcess driver;
  static CsiClient csi;
  static Path root;

  @BeforeAll
  static void start() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("docker")));
    root = tmp.resolve("root");
    Path config = Files.writeString(tmp.resolve("driver.yaml"), """
        root_dir: %s
        csi_endpoint: unix://%s/plugin/csi.sock
        pull_config:
          docker_config_dir: %s
          publish_wait_seconds: 0
        """.formatted(root, tmp, tmp.resolve("docker")));
    driver = DriverProcess.start(config, tmp.resolve("plugin/csi.sock"),
        tmp.resolve("driver.log"), null, List.of("--mode", "all"));
    csi = driver.csi();
  }

  @AfterEach
  void unmountLeftovers() throws Exception {
    CsiRequests.unmountAllUnder(tmp.resolve("kubelet"));
  }

  @AfterAll
  static void stop() throws Exception {
    CsiRequests.unmountAllUnder(tmp);
    Closeables.closeAll(driver, pusher, registry);
  }

  static PushedArtifact push(String name, long size, long seed) throws Exception {
    return ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", size, seed).rawFile("config.json", 200, seed + 1)
        .push(pusher, Reference.parse(registry.host() + "/models/" + name + ":v1"));
  }

  static Volume create(String name, Map<String, String> parameters, Mode mode) {
    return csi.controller().createVolume(CreateVolumeRequest.newBuilder().setName(name)
        .addVolumeCapabilities(mountCapability(mode)).putAllParameters(parameters)
        .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(1 << 30)).build())
        .getVolume();
  }

  static NodeStageVolumeRequest stage(Volume v, Path staging, Mode mode) {
    return NodeStageVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
        .setStagingTargetPath(staging.toString()).setVolumeCapability(mountCapability(mode))
        .putAllVolumeContext(v.getVolumeContextMap()).build();
  }

  static NodePublishVolumeRequest publish(Volume v, Path staging, Path target, Mode mode,
      String pod) {
    return NodePublishVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
        .setStagingTargetPath(staging.toString()).setTargetPath(target.toString())
        .setVolumeCapability(mountCapability(mode)).setReadonly(true)
        .putAllVolumeContext(v.getVolumeContextMap())
        .putVolumeContext("csi.storage.k8s.io/pod.name", pod)
        .putVolumeContext("csi.storage.k8s.io/pod.namespace", "default").build();
  }

  /** Stages as kubelet does: the call is repeated while the driver answers ABORTED. */
  static List<Status> stageUntilDone(NodeStageVolumeRequest req) {
    List<Status> answers = new ArrayList<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      Status s = statusOf(() -> csi.node().withDeadlineAfter(30, TimeUnit.SECONDS)
          .nodeStageVolume(req));
      answers.add(s);
      return s.getCode() != Status.Code.ABORTED;
    });
    return answers;
  }

  static Path staging(String name) throws Exception {
    // kubelet creates the staging directory (…/globalmount) before NodeStageVolume.
    return Files.createDirectories(tmp.resolve("kubelet/plugins/pv/" + name + "/globalmount"));
  }

  static List<String> mountsUnder(Path dir) throws Exception {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
      return lines.filter(l -> l.contains(dir.toString())).toList();
    }
  }

  static List<Path> volumesOnNode() throws Exception {
    try (Stream<Path> vols = Files.list(root.resolve("volumes"))) {
      return vols.toList();
    }
  }

  @Test
  void aPvcIsPulledOnceWhenStagedServesTwoPodsReadOnlyAndLeavesNothingAfterUnstage()
      throws Exception {
    PushedArtifact a = push("pvc", 8_000_000, 1);
    Volume v = create("pvc-1111", Map.of(REFERENCE, a.reference().toString(),
        SVC + "/type", "image"), Mode.MULTI_NODE_READER_ONLY);
    assertThat(v.getVolumeId()).matches("pvc-1111\\.ro\\.[0-9a-f]{16}");
    assertThat(v.getVolumeContextMap()).containsEntry(REFERENCE, a.reference().toString());
    assertThat(create("pvc-1111", Map.of(REFERENCE, a.reference().toString(),
        SVC + "/type", "image"), Mode.MULTI_NODE_READER_ONLY)).as("idempotent by name")
        .isEqualTo(v);
    assertThat(mountsUnder(tmp)).as("CreateVolume pulls nothing and mounts nothing").isEmpty();
    assertThat(volumesOnNode()).isEmpty();

    Path staging = staging("pvc-1111");
    List<Status> answers = stageUntilDone(stage(v, staging, Mode.MULTI_NODE_READER_ONLY));
    assertThat(answers.get(0).getCode()).as("first stage, past its 0 s wait")
        .isEqualTo(Status.Code.ABORTED);
    assertThat(answers.get(0).getDescription()).contains("pull in progress");
    assertThat(answers.get(answers.size() - 1).isOk()).as(answers.toString()).isTrue();
    csi.node().nodeStageVolume(stage(v, staging, Mode.MULTI_NODE_READER_ONLY)); // idempotent

    Path pod1 = tmp.resolve("kubelet/pods/uid-1/volumes/kubernetes.io~csi/pvc-1111/mount");
    Path pod2 = tmp.resolve("kubelet/pods/uid-2/volumes/kubernetes.io~csi/pvc-1111/mount");
    csi.node().nodePublishVolume(publish(v, staging, pod1, Mode.MULTI_NODE_READER_ONLY, "p1"));
    csi.node().nodePublishVolume(publish(v, staging, pod2, Mode.MULTI_NODE_READER_ONLY, "p2"));
    csi.node().nodePublishVolume(publish(v, staging, pod2, Mode.MULTI_NODE_READER_ONLY, "p2"));
    for (Path pod : List.of(pod1, pod2)) {
      assertThat(isMountPoint(pod)).isTrue();
      for (PushedFile f : a.files()) {
        assertThat(sha256(pod.resolve(f.path()))).isEqualTo(f.sha256());
      }
      assertThatThrownBy(() -> Files.writeString(pod.resolve("config.json"), "x"))
          .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only");
    }
    for (PushedFile f : a.files()) {
      assertThat(registry.countBlobGets("sha256:" + f.sha256())).as(f.path()).isEqualTo(1);
    }
    NodeGetVolumeStatsResponse stats = csi.node().nodeGetVolumeStats(NodeGetVolumeStatsRequest
        .newBuilder().setVolumeId(v.getVolumeId()).setVolumePath(pod1.toString()).build());
    assertThat(stats.getUsageList()).anySatisfy(u -> {
      assertThat(u.getUnit()).isEqualTo(VolumeUsage.Unit.BYTES);
      assertThat(u.getUsed()).isEqualTo(8_000_000 + 200);
    });

    Path pod3 = tmp.resolve("kubelet/pods/uid-3/volumes/kubernetes.io~csi/pvc-1111/mount");
    Volume otherModel = Volume.newBuilder(v).putVolumeContext(REFERENCE,
        registry.host() + "/models/other:v1").build();
    Status mismatch = statusOf(() -> csi.node().nodePublishVolume(
        publish(otherModel, staging, pod3, Mode.MULTI_NODE_READER_ONLY, "p3")));
    assertThat(mismatch.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(mismatch.getDescription()).contains("is staged with " + a.reference());
    assertThat(pod3.getParent()).doesNotExist();

    csi.node().nodeUnpublishVolume(unpublish(v, pod1));
    assertThat(isMountPoint(pod2)).as("the other pod keeps its mount").isTrue();
    assertThat(isMountPoint(staging)).isTrue();
    csi.node().nodeUnpublishVolume(unpublish(v, pod2));
    assertThat(volumesOnNode()).as("still staged").hasSize(1);
    csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder()
        .setVolumeId(v.getVolumeId()).setStagingTargetPath(staging.toString()).build());
    csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder()
        .setVolumeId(v.getVolumeId()).setStagingTargetPath(staging.toString()).build());
    csi.controller().deleteVolume(DeleteVolumeRequest.newBuilder()
        .setVolumeId(v.getVolumeId()).build());

    assertThat(mountsUnder(tmp)).isEmpty();
    assertThat(volumesOnNode()).isEmpty();
    assertThat(pod1).as("target directories the driver made are removed").doesNotExist();
    assertThat(pod2).doesNotExist();
    assertThat(staging).as("kubelet's staging directory is kubelet's").isEmptyDirectory();
  }

  @Test
  void createVolumeRefusesBadParametersAndWritersOfAReadOnlyModelNamingTheProblem() {
    String ref = registry.host() + "/models/none:v1";
    assertThat(statusOf(() -> create("pvc-bad1", Map.of(), Mode.MULTI_NODE_READER_ONLY)))
        .satisfies(s -> {
          assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(s.getDescription()).contains(REFERENCE);
        });
    assertThat(statusOf(() -> create("pvc-bad2", Map.of(REFERENCE, ref, SVC + "/type", "disk"),
        Mode.MULTI_NODE_READER_ONLY)).getDescription()).contains(SVC + "/type", "image");
    assertThat(statusOf(() -> create("pvc-bad3", Map.of(REFERENCE, ref,
        SVC + "/exclude-file-patterns", "*.md"), Mode.MULTI_NODE_READER_ONLY)).getDescription())
        .contains(SVC + "/exclude-file-patterns");
    Status writer = statusOf(() -> create("pvc-bad4", Map.of(REFERENCE, ref),
        Mode.SINGLE_NODE_WRITER));
    assertThat(writer.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(writer.getDescription()).contains("SINGLE_NODE_WRITER", SVC + "/writable");
    assertThat(statusOf(() -> create("pvc-ok", Map.of(REFERENCE, ref, SVC + "/writable",
        "true"), Mode.SINGLE_NODE_WRITER)).isOk()).isTrue();

    Volume first = create("pvc-twice", Map.of(REFERENCE, ref), Mode.MULTI_NODE_READER_ONLY);
    Status other = statusOf(() -> create("pvc-twice", Map.of(REFERENCE, ref + "-other"),
        Mode.MULTI_NODE_READER_ONLY));
    assertThat(other.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(other.getDescription()).contains(first.getVolumeId());
  }

  @Test
  void validateVolumeCapabilitiesConfirmsReadersRefusesWritersAndDoesNotKnowForeignIds() {
    Volume v = create("pvc-validate", Map.of(REFERENCE, registry.host() + "/models/x:v1"),
        Mode.MULTI_NODE_READER_ONLY);
    assertThat(csi.controller().validateVolumeCapabilities(validate(v.getVolumeId(),
        Mode.MULTI_NODE_READER_ONLY)).hasConfirmed()).isTrue();
    assertThat(csi.controller().validateVolumeCapabilities(validate(v.getVolumeId(),
        Mode.SINGLE_NODE_WRITER))).satisfies(r -> {
          assertThat(r.hasConfirmed()).isFalse();
          assertThat(r.getMessage()).contains("SINGLE_NODE_WRITER");
        });
    assertThat(statusOf(() -> csi.controller().validateVolumeCapabilities(
        validate("csi-0123", Mode.MULTI_NODE_READER_ONLY))).getCode())
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(csi.identity().getPluginCapabilities(GetPluginCapabilitiesRequest
        .getDefaultInstance()).getCapabilitiesList()).extracting(c -> c.getService().getType())
        .containsExactly(PluginCapability.Service.Type.CONTROLLER_SERVICE);
  }

  static ValidateVolumeCapabilitiesRequest validate(String id, Mode mode) {
    return ValidateVolumeCapabilitiesRequest.newBuilder().setVolumeId(id)
        .addVolumeCapabilities(mountCapability(mode)).build();
  }

  @Test
  void publishBeforeStageFailsPreconditionAndAFailedStageLeavesNoDirectoryOrMount()
      throws Exception {
    Volume missing = create("pvc-missing", Map.of(REFERENCE,
        registry.host() + "/models/missing:v1"), Mode.MULTI_NODE_READER_ONLY);
    Path staging = staging("pvc-missing");
    Path pod = tmp.resolve("kubelet/pods/uid-9/volumes/kubernetes.io~csi/pvc-missing/mount");

    Status early = statusOf(() -> csi.node().nodePublishVolume(
        publish(missing, staging, pod, Mode.MULTI_NODE_READER_ONLY, "p9")));
    assertThat(early.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(early.getDescription()).contains(missing.getVolumeId(), "not staged at "
        + staging);
    assertThat(pod).doesNotExist();

    Status writer = statusOf(() -> csi.node().nodeStageVolume(
        stage(missing, staging, Mode.SINGLE_NODE_WRITER)));
    assertThat(writer.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

    List<Status> answers = stageUntilDone(stage(missing, staging, Mode.MULTI_NODE_READER_ONLY));
    Status last = answers.get(answers.size() - 1);
    assertThat(last.getCode()).as(answers.toString()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(last.getDescription()).contains("models/missing:v1");

    assertThat(mountsUnder(tmp)).isEmpty();
    assertThat(volumesOnNode()).isEmpty();
    assertThat(staging).isEmptyDirectory();
    assertThat(pod).doesNotExist();
  }

  @Test
  void unstageLeavesAMountThatIsNotTheDriversExactlyAsItWas() throws Exception {
    Volume v = create("pvc-foreign", Map.of(REFERENCE, registry.host() + "/models/f:v1"),
        Mode.MULTI_NODE_READER_ONLY);
    Path staging = staging("pvc-foreign");
    Commands.run("mount", "-t", "tmpfs", "-o", "size=1m", "foreign", staging.toString());
    Files.writeString(staging.resolve("someone-elses-file"), "keep");

    csi.node().nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder()
        .setVolumeId(v.getVolumeId()).setStagingTargetPath(staging.toString()).build());
    Status publish = statusOf(() -> csi.node().nodePublishVolume(publish(v, staging,
        tmp.resolve("kubelet/pods/uid-f/mount"), Mode.MULTI_NODE_READER_ONLY, "pf")));
    assertThat(publish.getCode()).as("a foreign mount is not a staged volume")
        .isEqualTo(Status.Code.FAILED_PRECONDITION);

    assertThat(isMountPoint(staging)).isTrue();
    assertThat(staging.resolve("someone-elses-file")).hasContent("keep");
    assertThat(tmp.resolve("kubelet/pods/uid-f")).doesNotExist();
    assertThat(volumesOnNode()).isEmpty();
  }

  static NodeUnpublishVolumeRequest unpublish(Volume v, Path target) {
    return NodeUnpublishVolumeRequest.newBuilder().setVolumeId(v.getVolumeId())
        .setTargetPath(target.toString()).build();
  }
}
