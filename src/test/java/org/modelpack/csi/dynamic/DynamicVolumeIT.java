package org.modelpack.csi.dynamic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.dynamic.DynamicApiClient.Answer;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/**
 * Dynamic volumes through the real API socket of a node plugin, with a real registry and real
 * mounts: what a pod does with its workspace, and what a pod must not be able to do.
 */
class DynamicVolumeIT extends NodesWithRegistry {
  private static final Duration WAIT = Duration.ofSeconds(60);

  static PushedArtifact model(String name, int seed) throws Exception {
    return ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", 200_000, seed)
        .rawFile("config.json", 300, seed + 1)
        .push(pusher, ref("models/" + name + ":v1"));
  }

  static String mountBody(String mountId, PushedArtifact a) {
    return "{\"mount_id\": \"" + mountId + "\", \"reference\": \"" + a.reference() + "\"}";
  }

  static JsonNode json(Answer a) throws IOException {
    return Json.mapper().readTree(a.body());
  }

  /** A pod's view of the target: a recursive copy that follows it (HostToContainer). */
  private Path podView(String name, Path target) throws Exception {
    return view(name, target, "--rbind", "--make-rslave");
  }

  /**
   * A pod's view of the target without {@code mountPropagation}: a copy of the target taken out
   * of its peer group, so no mount made below the target later reaches it.
   */
  private Path privatePodView(String name, Path target) throws Exception {
    return view(name, target, "--bind", "--make-private");
  }

  /** Binds {@code target} at {@code podviews/name} and sets its propagation; undone after. */
  private Path view(String name, Path target, String bind, String propagation)
      throws Exception {
    Path view = Files.createDirectories(tmp.resolve("podviews").resolve(name));
    Commands.run("mount", bind, target.toString(), view.toString());
    Commands.run("mount", propagation, view.toString());
    closeAfterTest(() -> {
      if (isMountPoint(view)) {
        Commands.run("umount", "--recursive", "--lazy", view.toString());
      }
    });
    return view;
  }

  private DynamicApiClient client(Path target) throws IOException {
    return closeAfterTest(DynamicApiClient.connect(target.resolve("csi/csi.sock")));
  }

  @Test
  void aPodMountsListsInspectsAndDeletesModelsThroughItsOwnSocketAndARestartKeepsThem()
      throws Exception {
    PushedArtifact a = model("dyn-a", 10);
    PushedArtifact b = model("dyn-b", 20);
    TestNode node = startNode("flow", "");
    Path target = target("csi-dyn-a");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-a", target));

    assertThat(isMountPoint(target)).isTrue();
    assertThat(target.resolve("models")).isEmptyDirectory();
    assertThat(json(new Answer(0, Files.readString(target.resolve("status.json"))))
        .path("volume_name").asText()).isEqualTo("csi-dyn-a");
    assertThatThrownBy(() -> Files.writeString(target.resolve("x"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    Path pod = podView("flow", target); // the pod started before any model was asked for
    DynamicApiClient api = client(pod);
    String mounts = "/api/v1/volumes/csi-dyn-a/mounts";

    Answer m1 = api.send("POST", mounts, mountBody("m1", a), WAIT);
    assertThat(m1.status()).as(m1.body()).isEqualTo(201);
    assertThat(json(m1).path("state").asText()).isEqualTo("MOUNTED");
    assertThat(json(m1).path("mount_id").asText()).isEqualTo("m1");
    Answer m2 = api.send("POST", mounts, mountBody("m2", b), WAIT);
    assertThat(m2.status()).as(m2.body()).isEqualTo(201);

    Path m1Model = pod.resolve("models/m1/model");
    assertThat(CsiRequests.sha256(m1Model.resolve("model.safetensors")))
        .isEqualTo(a.file("model.safetensors").sha256());
    assertThat(CsiRequests.sha256(target.resolve("models/m2/model/config.json")))
        .isEqualTo(b.file("config.json").sha256());
    assertThatThrownBy(() -> Files.writeString(m1Model.resolve("config.json"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");

    Answer list = api.send("GET", mounts, null, WAIT);
    assertThat(list.status()).isEqualTo(200);
    assertThat(json(list).findValuesAsText("reference"))
        .containsExactly(a.reference().toString(), b.reference().toString());
    assertThat(json(list).findValuesAsText("state")).containsOnly("MOUNTED");
    assertThat(json(api.send("GET", mounts + "/m2", null, WAIT)).path("reference").asText())
        .isEqualTo(b.reference().toString());

    Answer inspected = api.send("GET", "/api/v1/artifacts/" + a.reference(), null, WAIT);
    assertThat(inspected.status()).as(inspected.body()).isEqualTo(200);
    assertThat(json(inspected).path("Digest").asText()).isEqualTo(a.manifestDigest());
    assertThat(json(inspected).path("Id").asText()).startsWith("sha256:");
    assertThat(json(inspected).path("Name").asText()).isEqualTo("test-model");
    assertThat(json(inspected).path("Format").asText()).isEqualTo("safetensors");
    assertThat(json(inspected).path("Layers").findValuesAsText("Filepath"))
        .containsExactlyInAnyOrder("model.safetensors", "config.json");

    Answer conflict = api.send("POST", mounts, mountBody("m1", b), WAIT);
    assertThat(conflict.status()).isEqualTo(409);
    assertThat(json(conflict).path("code").asText()).isEqualTo("ALREADY_EXISTS");
    assertThat(json(conflict).path("message").asText()).contains("mount m1 already serves "
        + a.reference());
    Answer again = api.send("POST", mounts, mountBody("m1", a), WAIT);
    assertThat(again.status()).as("the same mount asked again").isEqualTo(201);

    Answer badBody = api.send("POST", mounts, "{\"mount_id\": ", WAIT);
    assertThat(badBody.status()).isEqualTo(400);
    assertThat(json(badBody).path("code").asText()).isEqualTo("INVALID_ARGUMENT");
    assertThat(json(badBody).path("message").asText()).startsWith("invalid JSON body: ");
    Answer badId = api.send("POST", mounts, "{\"mount_id\": \"../x\", \"reference\": \""
        + a.reference() + "\"}", WAIT);
    assertThat(badId.status()).isEqualTo(400);
    assertThat(json(badId).path("message").asText())
        .isEqualTo("mount_id '../x' must match ^[a-zA-Z0-9_-]+$");

    Answer deleted = api.send("DELETE", mounts + "/m1", null, WAIT);
    assertThat(deleted.status()).isEqualTo(204);
    assertThat(isMountPoint(target.resolve("models/m1/model"))).isFalse();
    assertThat(isMountPoint(m1Model)).isFalse();
    assertThat(target.resolve("models/m1")).doesNotExist();
    assertThat(node.root.resolve("volumes/csi-dyn-a.m1")).doesNotExist();
    assertThat(api.send("GET", mounts + "/m1", null, WAIT).status()).isEqualTo(404);
    assertThat(api.send("DELETE", mounts + "/m1", null, WAIT).status()).isEqualTo(204);
    assertThat(pod.resolve("models/m2/model/config.json")).exists();

    // A driver restart: the socket comes back, the mount stays listed and readable.
    node.close();
    assertThat(isMountPoint(target.resolve("models/m2/.source"))).isTrue();
    // As if the process had died between m2's pull and its links.
    org.modelpack.csi.fs.FileTrees.delete(node.root.resolve("volumes/csi-dyn-a/models/m2/model"));
    TestNode restarted = startNode("flow", "");
    DynamicApiClient afterRestart = client(pod);
    Answer listed = afterRestart.send("GET", mounts, null, WAIT);
    assertThat(listed.status()).as(listed.body()).isEqualTo(200);
    assertThat(json(listed).findValuesAsText("mount_id")).containsExactly("m2");
    // Joins the mount the restart restored (or repeats it): it ends once the links are back.
    assertThat(afterRestart.send("POST", mounts, mountBody("m2", b), WAIT).status())
        .isEqualTo(201);
    assertThat(CsiRequests.sha256(pod.resolve("models/m2/model/model.safetensors")))
        .isEqualTo(b.file("model.safetensors").sha256());

    // Kubelet unpublishes after the pod is gone: nothing of the volume stays.
    Commands.run("umount", "--recursive", "--lazy", pod.toString());
    restarted.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-dyn-a", target));
    assertThat(target).doesNotExist();
    assertThat(mountsUnder(tmp)).isEmpty();
    assertThat(restarted.root.resolve("volumes")).isEmptyDirectory();
    assertThat(restarted.root.resolve(ApiSockets.DIR)).isEmptyDirectory();
  }

  @Test
  void aPodWithoutMountPropagationSeesAModelAskedForAfterItStartedReadOnlyUntilItsDelete()
      throws Exception {
    PushedArtifact a = model("private-view", 60);
    TestNode node = startNode("private-view", "");
    Path target = target("csi-dyn-private");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-private", target));
    Path pod = privatePodView("private", target); // started before any model was asked for
    DynamicApiClient api = client(pod);
    String mounts = "/api/v1/volumes/csi-dyn-private/mounts";

    Answer mounted = api.send("POST", mounts, mountBody("m", a), WAIT);

    assertThat(mounted.status()).as(mounted.body()).isEqualTo(201);
    assertThat(mountsUnder(pod)).as("no mount reached the pod's private view").isEmpty();
    Path model = pod.resolve("models/m/model");
    assertThat(CsiRequests.sha256(model.resolve("model.safetensors")))
        .isEqualTo(a.file("model.safetensors").sha256());
    assertThat(CsiRequests.sha256(model.resolve("config.json")))
        .isEqualTo(a.file("config.json").sha256());
    assertThat(Files.isSameFile(model.resolve("model.safetensors"),
        node.root.resolve("volumes/csi-dyn-private.m/model/model.safetensors")))
        .as("a hard link to the pulled file, not a copy").isTrue();
    assertThatThrownBy(() -> Files.writeString(model.resolve("config.json"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.setPosixFilePermissions(model.resolve("config.json"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-")))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.writeString(model.resolve("new"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");

    Answer deleted = api.send("DELETE", mounts + "/m", null, WAIT);

    assertThat(deleted.status()).isEqualTo(204);
    assertThat(pod.resolve("models/m")).doesNotExist();
    assertThat(pod.resolve("models")).isEmptyDirectory();
    assertThat(node.root.resolve("volumes/csi-dyn-private.m")).doesNotExist();
    Commands.run("umount", pod.toString());
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-dyn-private", target));
    assertThat(mountsUnder(tmp)).isEmpty();
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
  }

  @Test
  void aSocketServesOnlyItsOwnVolume() throws Exception {
    PushedArtifact a = model("iso", 30);
    TestNode node = startNode("isolation", "");
    Path targetA = target("csi-iso-a");
    Path targetB = target("csi-iso-b");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-iso-a", targetA));
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-iso-b", targetB));
    DynamicApiClient fromA = client(targetA);

    Answer post = fromA.send("POST", "/api/v1/volumes/csi-iso-b/mounts", mountBody("m", a),
        WAIT);
    Answer list = fromA.send("GET", "/api/v1/volumes/csi-iso-b/mounts", null, WAIT);
    Answer delete = fromA.send("DELETE", "/api/v1/volumes/csi-iso-b/mounts/m", null, WAIT);

    for (Answer refused : List.of(post, list, delete)) {
      assertThat(refused.status()).isEqualTo(403);
      assertThat(json(refused).path("code").asText()).isEqualTo("PERMISSION_DENIED");
      assertThat(json(refused).path("message").asText())
          .isEqualTo("this socket serves volume csi-iso-a only; it cannot manage volume "
              + "csi-iso-b");
    }
    assertThat(targetB.resolve("models")).isEmptyDirectory();
    assertThat(node.root.resolve("volumes/csi-iso-b.m")).doesNotExist();
    assertThat(fromA.send("GET", "/api/v1/volumes/csi-iso-a/mounts", null, WAIT).body())
        .isEqualTo("[]");
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-iso-a", targetA));
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-iso-b", targetB));
    assertThat(mountsUnder(tmp)).isEmpty();
  }

  @Test
  void aModelAnInlineVolumeAlreadyPulledIsNotDownloadedAgainForADynamicMount()
      throws Exception {
    PushedArtifact a = model("shared", 40);
    TestNode node = startNode("shared", "");
    Path inline = target("csi-inline");
    node.csi.node().nodePublishVolume(CsiRequests.publish("csi-inline", inline,
        a.reference().toString()).build());
    String weights = "sha256:" + a.file("model.safetensors").sha256();
    assertThat(registry.countBlobGets(weights)).isEqualTo(1);

    Path target = target("csi-dyn-shared");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-shared", target));
    Answer mounted = client(target).send("POST", "/api/v1/volumes/csi-dyn-shared/mounts",
        mountBody("m", a), WAIT);

    assertThat(mounted.status()).as(mounted.body()).isEqualTo(201);
    assertThat(CsiRequests.sha256(target.resolve("models/m/model/model.safetensors")))
        .isEqualTo(a.file("model.safetensors").sha256());
    assertThat(registry.countBlobGets(weights)).as("blob GETs of the weights").isEqualTo(1);
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-dyn-shared", target));
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-inline", inline));
    assertThat(mountsUnder(tmp)).isEmpty();
  }

  @Test
  void aFailedMountAnswersWithItsReasonAndLeavesNothing() throws Exception {
    TestNode node = startNode("failures", "");
    Path target = target("csi-dyn-fail");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-fail", target));
    DynamicApiClient api = client(target);
    String mounts = "/api/v1/volumes/csi-dyn-fail/mounts";

    Answer missing = api.send("POST", mounts, "{\"mount_id\": \"m\", \"reference\": \""
        + registry.host() + "/models/nothing-here:v1\"}", WAIT);
    Answer invalid = api.send("POST", mounts,
        "{\"mount_id\": \"m\", \"reference\": \"Not A Reference\"}", WAIT);
    Answer noReference = api.send("POST", mounts, "{\"mount_id\": \"m\"}", WAIT);
    Answer unknownVolume = api.send("GET", "/api/v1/volumes/csi-dyn-fail/nothing", null, WAIT);
    Answer inspectMissing = api.send("GET", "/api/v1/artifacts/" + registry.host()
        + "/models/nothing-here:v1", null, WAIT);
    Answer wrongMethod = api.send("PUT", mounts + "/m", "{}", WAIT);
    Status dottedId = CsiRequests.statusOf(() -> node.csi.node().nodePublishVolume(
        CsiRequests.publishDynamic("csi.dotted", target("csi.dotted"))));

    assertThat(missing.status()).as(missing.body()).isEqualTo(404);
    assertThat(json(missing).path("code").asText()).isEqualTo("NOT_FOUND");
    assertThat(json(missing).path("message").asText()).contains("nothing-here");
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(json(invalid).path("message").asText())
        .startsWith("model reference 'Not A Reference' is invalid");
    assertThat(noReference.status()).isEqualTo(400);
    assertThat(json(noReference).path("message").asText()).isEqualTo("reference is required");
    assertThat(unknownVolume.status()).isEqualTo(404);
    assertThat(inspectMissing.status()).as(inspectMissing.body()).isEqualTo(404);
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(json(wrongMethod).path("message").asText())
        .isEqualTo("method PUT is not allowed here; use GET or DELETE");
    assertThat(dottedId.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(dottedId.getDescription()).isEqualTo("volume_id of a dynamic volume 'csi.dotted' "
        + "must match ^[a-zA-Z0-9_-]+$");
    assertThat(target("csi.dotted")).doesNotExist();
    assertThat(target.resolve("models")).isEmptyDirectory();
    assertThat(node.root.resolve("volumes")).isDirectoryNotContaining("glob:**.m");
    assertThat(mountsUnder(tmp)).containsExactly(target);
    assertThat(json(api.send("GET", mounts + "/m", null, WAIT)).path("state").asText())
        .as("a failed mount is reported until it is deleted or posted again")
        .isEqualTo("PULL_FAILED");

    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-dyn-fail", target));
    assertThat(mountsUnder(tmp)).isEmpty();
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
  }

  @Test
  void aRootDirTooLongForASocketPathRefusesThePublishAndLeavesNothing() throws Exception {
    // 84 bytes: the CSI socket (root + 17 at most) fits, the API socket (root + 30) does not.
    TestNode node = startNode("r".repeat(84 - tmp.toString().length() - 1), "");
    Path target = target("csi-dyn-long");

    Status refused = CsiRequests.statusOf(() -> node.csi.node()
        .nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-long", target)));

    assertThat(refused.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(refused.getDescription()).contains("longer than the 107 bytes")
        .contains("use a shorter root_dir");
    assertThat(target).doesNotExist();
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
    assertThat(node.root.resolve(ApiSockets.DIR)).doesNotExist();
    assertThat(mountsUnder(tmp)).isEmpty();
  }

  @Test
  void aPostWhoseClientGaveUpKeepsPullingAndARepeatedPostGetsTheMount() throws Exception {
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("a-slow"))
        .rawFile("model.safetensors", 3 << 20, 50)
        .push(pusher, ref("models/slow:v1"));
    FaultProxy proxy = stallingAfterOneMiB(a, "model.safetensors");
    // The driver's publish waits 1 s, so the mount is asked for again and again meanwhile; the
    // stalled transfer resumes after 3 s.
    TestNode node = startNodeForStalledPulls("slow");
    Path target = target("csi-dyn-slow");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-slow", target));
    DynamicApiClient api = client(target);
    String mounts = "/api/v1/volumes/csi-dyn-slow/mounts";
    String body = "{\"mount_id\": \"m\", \"reference\": \"" + proxy.host() + "/models/slow:v1\"}";

    assertThatThrownBy(() -> api.send("POST", mounts, body, Duration.ofMillis(500)))
        .isInstanceOf(IOException.class).hasMessageContaining("no answer");
    Answer pulling = api.send("GET", mounts + "/m", null, WAIT);
    assertThat(json(pulling).path("state").asText()).isEqualTo("PULLING");
    Answer joined = api.send("POST", mounts, body, WAIT);

    assertThat(joined.status()).as(joined.body()).isEqualTo(201);
    assertThat(json(joined).path("state").asText()).isEqualTo("MOUNTED");
    assertThat(CsiRequests.sha256(target.resolve("models/m/model/model.safetensors")))
        .isEqualTo(a.file("model.safetensors").sha256());
    node.csi.node().nodeUnpublishVolume(CsiRequests.unpublish("csi-dyn-slow", target));
    assertThat(mountsUnder(tmp)).isEmpty();
  }

  @Test
  void onASharedRootDirAsTheChartMountsItMountsReachThePodAndLeaveNothing() throws Exception {
    // The chart mounts root_dir with Bidirectional propagation: a shared mount, whose peer
    // group the workspace's bind joins.
    Path root = Files.createDirectories(tmp.resolve("shared-root"));
    Commands.run("mount", "--bind", root.toString(), root.toString());
    closeAfterTest(() -> Commands.run("umount", "--recursive", "--lazy", root.toString()));
    Commands.run("mount", "--make-shared", root.toString());
    PushedArtifact a = model("on-shared", 95);
    TestNode node = startNode("shared-root", "");
    Path target = target("csi-dyn-shared-root");
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic("csi-dyn-shared-root", target));
    Path pod = podView("shared-root", target);
    DynamicApiClient api = client(pod);
    String mounts = "/api/v1/volumes/csi-dyn-shared-root/mounts";

    Answer mounted = api.send("POST", mounts, mountBody("m", a), WAIT);
    assertThat(mounted.status()).as(mounted.body()).isEqualTo(201);
    assertThat(CsiRequests.sha256(pod.resolve("models/m/model/model.safetensors")))
        .isEqualTo(a.file("model.safetensors").sha256());
    assertThat(api.send("DELETE", mounts + "/m", null, WAIT).status()).isEqualTo(204);

    assertThat(mountsUnder(tmp)).filteredOn(m -> m.toString().contains("models/m"))
        .as("no copy of the model's mount anywhere").isEmpty();
    Commands.run("umount", "--recursive", "--lazy", pod.toString());
    node.csi.node().nodeUnpublishVolume(
        CsiRequests.unpublish("csi-dyn-shared-root", target));
    assertThat(mountsUnder(tmp)).containsExactly(root);
    assertThat(root.resolve("volumes")).isEmptyDirectory();
  }

  /** Mount points under {@code dir} in this process's mount table. */
  static List<Path> mountsUnder(Path dir) throws IOException {
    String prefix = dir.toAbsolutePath().normalize() + "/";
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
      return lines.map(l -> l.split(" ")[4]).filter(m -> m.startsWith(prefix))
          .map(Path::of).toList();
    }
  }
}
