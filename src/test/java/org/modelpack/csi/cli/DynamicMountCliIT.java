package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/** The in-pod commands (mount, list, inspect, umount) against a real driver's volume socket. */
class DynamicMountCliIT extends NodesWithRegistry {

  private static PushedArtifact model(String name, int seed) throws Exception {
    return ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", 100_000, seed)
        .rawFile("config.json", 200, seed + 1)
        .push(pusher, ref("models/" + name + ":v1"));
  }

  private Path dynamicVolume(TestNode node, String volumeId) {
    Path target = target(volumeId);
    node.csi.node().nodePublishVolume(CsiRequests.publishDynamic(volumeId, target));
    closeAfterTest(() -> node.csi.node().nodeUnpublishVolume(
        CsiRequests.unpublish(volumeId, target)));
    return target;
  }

  @Test
  void mountListInspectAndUmountManageThePodsModels() throws Exception {
    PushedArtifact a = model("cli-a", 60);
    PushedArtifact b = model("cli-b", 70);
    TestNode node = startNode("cli", "");
    String workdir = dynamicVolume(node, "csi-cli").toString();

    CliRun mountA = CliRun.of("mount", "--workdir", workdir, "--reference",
        a.reference().toString(), "--mount-id", "llm");
    CliRun mountB = CliRun.of("mount", "--workdir", workdir, "--reference",
        b.reference().toString(), "--mount-id", "tokenizer", "--exclude-file-pattern",
        "*.safetensors");
    CliRun list = CliRun.of("list", "--workdir", workdir);
    CliRun inspect = CliRun.of("inspect", "--workdir", workdir, a.reference().toString());

    assertThat(mountA.exitCode()).as("%s", mountA).isZero();
    assertThat(mountA.out()).endsWith("mounted " + a.reference() + " at " + workdir
        + "/models/llm/model\n");
    assertThat(mountB.exitCode()).as("%s", mountB).isZero();
    assertThat(Path.of(workdir, "models/llm/model/model.safetensors")).exists();
    assertThat(Path.of(workdir, "models/tokenizer/model/config.json")).exists();
    assertThat(Path.of(workdir, "models/tokenizer/model/model.safetensors")).doesNotExist();
    assertThat(list.out().lines().toList()).containsExactly(
        "MOUNT ID\tREFERENCE\tSTATE\tDETAIL",
        "llm\t" + a.reference() + "\tMOUNTED\t",
        "tokenizer\t" + b.reference() + "\tMOUNTED\t");
    assertThat(inspect.exitCode()).as("%s", inspect).isZero();
    assertThat(inspect.out()).contains("\"Digest\" : \"" + a.manifestDigest() + "\"")
        .contains("\"Filepath\" : \"model.safetensors\"");

    CliRun.of("mount", "--workdir", workdir, "--reference", b.reference().toString(),
        "--mount-id", "llm").failedWithOneLine(1, "mount", "mount llm: ALREADY_EXISTS (HTTP 409)",
            "mount llm already serves " + a.reference());
    CliRun umount = CliRun.of("umount", "--workdir", workdir, "llm");
    assertThat(umount.exitCode()).as("%s", umount).isZero();
    assertThat(umount.out()).isEqualTo("unmounted llm\n");
    assertThat(isMountPoint(Path.of(workdir, "models/llm/model"))).isFalse();
    assertThat(CliRun.of("list", "--workdir", workdir).out().lines().skip(1).toList())
        .containsExactly("tokenizer\t" + b.reference() + "\tMOUNTED\t");
  }

  @Test
  void mountShowsTheProgressOfASlowPull() throws Exception {
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("a-cli-slow"))
        .rawFile("model.safetensors", 3 << 20, 80)
        .push(pusher, ref("models/cli-slow:v1"));
    FaultProxy proxy = stallingAfterOneMiB(a, "model.safetensors");
    TestNode node = startNodeForStalledPulls("cli-slow");
    String workdir = dynamicVolume(node, "csi-cli-slow").toString();

    CliRun run = CliRun.of("mount", "--workdir", workdir, "--reference",
        proxy.host() + "/models/cli-slow:v1", "--mount-id", "slow");

    assertThat(run.exitCode()).as("%s", run).isZero();
    assertThat(run.out().lines().toList())
        .anyMatch(l -> l.matches("slow: pulling [0-9.]+ (B|KiB|MiB) of 3\\.0 MiB \\(\\d{1,2}%\\)"))
        .contains("slow: pulled 3.0 MiB")
        .last().asString().startsWith("mounted ");
  }

  @Test
  void publishWithoutAReferenceMakesADynamicVolumeTheInPodCommandsUse() throws Exception {
    PushedArtifact a = model("cli-publish", 90);
    TestNode node = startNode("cli-publish", "");
    Path workdir = target("csi-cli-publish");
    String endpoint = "unix://" + node.plugin.config().csiEndpoint();

    CliRun published = CliRun.of("publish", "--endpoint", endpoint, "--volume-id",
        "csi-cli-publish", "--target", workdir.toString());
    CliRun mounted = CliRun.of("mount", "--workdir", workdir.toString(), "--reference",
        a.reference().toString(), "--mount-id", "m");

    assertThat(published.exitCode()).as("%s", published).isZero();
    assertThat(mounted.exitCode()).as("%s", mounted).isZero();
    assertThat(workdir.resolve("models/m/model/config.json")).exists();
    CliRun unpublished = CliRun.of("unpublish", "--endpoint", endpoint, "--volume-id",
        "csi-cli-publish", "--target", workdir.toString());
    assertThat(unpublished.exitCode()).as("%s", unpublished).isZero();
    assertThat(workdir).doesNotExist();
  }

  @Test
  void aWorkdirThatIsNoDynamicVolumeIsOneLineNamingTheFile() throws Exception {
    Path notAVolume = Files.createDirectories(tmp.resolve("not-a-volume"));

    CliRun.of("list", "--workdir", notAVolume.toString()).failedWithOneLine(1, "list",
        notAVolume.resolve("csi/csi.sock") + " does not exist; --workdir must be the mount path "
            + "of a dynamic model volume");
  }

  @Test
  void anUnknownMountIdIsRefusedWithTheApisReason() throws Exception {
    TestNode node = startNode("cli-bad", "");
    String workdir = dynamicVolume(node, "csi-cli-bad").toString();

    CliRun.of("mount", "--workdir", workdir, "--reference", registry.host() + "/models/x:v1",
        "--mount-id", "no/slash").failedWithOneLine(1, "mount",
            "INVALID_ARGUMENT (HTTP 400): mount_id 'no/slash' must match ^[a-zA-Z0-9_-]+$");
  }
}
