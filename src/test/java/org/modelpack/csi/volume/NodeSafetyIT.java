package org.modelpack.csi.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.statusOf;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modelpack.csi.mount.MountEntry;
import org.modelpack.csi.mount.MountTable;
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/**
 * The driver unmounts and deletes only what it published, and mounts only where it may: every
 * case runs on scratch paths under the test's own directory (a tmpfs, files, links, another
 * volume), each of which must be left exactly as it was. Requires root.
 */
class NodeSafetyIT extends NodesWithRegistry {
  static PushedArtifact model;

  @BeforeAll
  static void pushModel() throws Exception {
    model = ModelArtifactBuilder.create(tmp.resolve("artifact"))
        .rawFile("model.safetensors", 300_000, 1)
        .rawFile("config.json", 200, 2)
        .tarLayer(Compression.GZIP, TarEntry.file("tokenizer/vocab.txt", 20_000, 3),
            TarEntry.file("tokenizer/merges.txt", 10_000, 4))
        .push(pusher, ref("models/safety:v1"));
  }

  private TestNode node(String name) throws IOException {
    return startNode(name, "");
  }

  private static void publishModel(TestNode node, String volumeId, Path target) {
    node.csi.node().nodePublishVolume(publish(volumeId, target, model.reference().toString())
        .build());
  }

  private static Status.Code codeOf(Runnable call) {
    return statusOf(call).getCode();
  }

  private static String messageOf(Runnable call) {
    return String.valueOf(statusOf(call).getDescription());
  }

  private static void assertServesModel(Path target) throws IOException {
    assertThat(isMountPoint(target)).isTrue();
    for (PushedFile f : model.files()) {
      assertThat(sha256(target.resolve(f.path()))).as(f.path()).isEqualTo(f.sha256());
    }
  }

  /** A tmpfs at {@code dir} holding one file, as someone else's mount would. */
  private Path foreignTmpfs(String name) throws Exception {
    Path dir = mountTmpfs(name, "1m");
    Files.writeString(dir.resolve("theirs.txt"), "not the driver's");
    return dir;
  }

  @Test
  void unpublishOfAnUnknownVolumeAtAForeignMountLeavesItMountedWithItsFiles() throws Exception {
    TestNode node = node("unknown-volume");
    Path foreign = foreignTmpfs("foreign-1");

    node.csi.node().nodeUnpublishVolume(unpublish("csi-never-published", foreign));

    assertThat(isMountPoint(foreign)).isTrue();
    assertThat(foreign.resolve("theirs.txt")).hasContent("not the driver's");
  }

  @Test
  void unpublishWithAnotherVolumesIdLeavesThatVolumesMountAndRecord() throws Exception {
    TestNode node = node("other-id");
    Path target = target("other-id-a");
    publishModel(node, "csi-a", target);
    String status = Files.readString(node.root.resolve("volumes/csi-a/status.json"));
    publishModel(node, "csi-b", target("other-id-b"));

    node.csi.node().nodeUnpublishVolume(unpublish("csi-b", target));

    assertServesModel(target);
    assertThat(Files.readString(node.root.resolve("volumes/csi-a/status.json")))
        .isEqualTo(status);
    assertServesModel(target("other-id-b"));
  }

  @Test
  void aMountOfOursCoveredBySomeoneElsesIsLeftAndTheUnpublishNamesWhy() throws Exception {
    TestNode node = node("covered");
    Path target = target("covered");
    publishModel(node, "csi-covered", target);
    Commands.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", target.toString());
    Files.writeString(target.resolve("theirs.txt"), "on top");

    assertThat(messageOf(() -> node.csi.node()
        .nodeUnpublishVolume(unpublish("csi-covered", target))))
        .contains("covered by another mount");
    assertThat(codeOf(() -> node.csi.node().nodeUnpublishVolume(
        unpublish("csi-covered", target)))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(target.resolve("theirs.txt")).hasContent("on top");
    assertThat(node.root.resolve("volumes/csi-covered/model")).isDirectory();

    Commands.run("umount", target.toString()); // the owner of the tmpfs takes it away
    assertServesModel(target);
    node.csi.node().nodeUnpublishVolume(unpublish("csi-covered", target));
    assertThat(isMountPoint(target)).isFalse();
    assertThat(node.root.resolve("volumes/csi-covered")).doesNotExist();
  }

  @Test
  void unpublishLeavesAFileAnEmptyDirectoryAndASymlinkAsTheyWere() throws Exception {
    TestNode node = node("plain-paths");
    Path scratch = Files.createDirectories(tmp.resolve("plain-paths-scratch"));
    Path file = Files.writeString(scratch.resolve("file.txt"), "a user's file");
    Path emptyDir = Files.createDirectories(scratch.resolve("empty"));
    Path pointedAt = Files.createDirectories(scratch.resolve("pointed-at"));
    Files.writeString(pointedAt.resolve("kept.txt"), "kept");
    Path link = Files.createSymbolicLink(scratch.resolve("link"), pointedAt);
    publishModel(node, "csi-known", target("plain-known"));

    for (String volumeId : List.of("csi-unknown", "csi-known")) {
      for (Path p : List.of(file, emptyDir, link)) {
        node.csi.node().nodeUnpublishVolume(unpublish(volumeId, p));
      }
    }

    assertThat(file).hasContent("a user's file");
    assertThat(emptyDir).isEmptyDirectory();
    assertThat(Files.readSymbolicLink(link)).isEqualTo(pointedAt);
    assertThat(pointedAt.resolve("kept.txt")).hasContent("kept");
    assertServesModel(target("plain-known"));
  }

  @Test
  void aTargetDirectoryTheDriverDidNotCreateStaysAfterUnpublish() throws Exception {
    TestNode node = node("precreated");
    Path made = target("made-by-driver");
    Path given = Files.createDirectories(target("made-by-kubelet"));
    publishModel(node, "csi-made", made);
    publishModel(node, "csi-given", given);

    node.csi.node().nodeUnpublishVolume(unpublish("csi-made", made));
    node.csi.node().nodeUnpublishVolume(unpublish("csi-given", given));

    assertThat(made).doesNotExist();
    assertThat(given).isEmptyDirectory();
    assertThat(isMountPoint(given)).isFalse();
  }

  @Test
  void aTargetSomeoneElseRemountedIsForgottenAndTheirMountStays() throws Exception {
    TestNode node = node("remounted");
    Path target = target("remounted");
    publishModel(node, "csi-remounted", target);
    Commands.run("umount", target.toString());
    // Under pods/: unmounted after the test with everything else there.
    Commands.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", target.toString());

    node.csi.node().nodeUnpublishVolume(unpublish("csi-remounted", target));

    assertThat(isMountPoint(target)).isTrue();
    assertThat(node.root.resolve("volumes/csi-remounted")).doesNotExist();
  }

  @Test
  void aMountWhoseRecordWasLostToACrashIsRecognisedByItsSourceAndUnpublished()
      throws Exception {
    TestNode node = node("lost-record");
    Path target = target("lost-record");
    publishModel(node, "csi-lost", target);
    Path status = node.root.resolve("volumes/csi-lost/status.json");
    // As if the process died between the mount and the status write.
    Files.writeString(status, Files.readString(status)
        .replace("\"" + target + "\"", "").replace("MOUNTED", "PULL_SUCCEEDED"));

    publishModel(node, "csi-lost", target);
    assertThat(Files.readString(status)).contains(target.toString());

    Files.writeString(status, Files.readString(status).replace("\"" + target + "\"", ""));
    node.csi.node().nodeUnpublishVolume(unpublish("csi-lost", target));
    assertThat(isMountPoint(target)).isFalse();
    assertThat(node.root.resolve("volumes/csi-lost")).doesNotExist();
  }

  /** Targets named relative to the node's root, the test's directory or another volume. */
  @ParameterizedTest
  @ValueSource(strings = {"ROOT", "ROOT/store", "ROOT/store/blobs", "ROOT/volumes",
      "ROOT/volumes/csi-other/model", "ROOT/staging/x", "ROOT/new-dir", "TMP", "/"})
  void aTargetThatIsOrHoldsOrLiesInsideTheDriversOwnDirectoriesIsRefused(String where)
      throws Exception {
    TestNode node = node("own-dirs");
    publishModel(node, "csi-other", target("own-dirs-other"));
    Path target = Path.of(where.replace("ROOT", node.root.toString())
        .replace("TMP", tmp.toString()));
    List<String> before = listing(node.root);
    List<MountEntry> mountsBefore = mountsAt(target);

    String message = messageOf(() -> publishModel(node, "csi-refused", target));

    assertThat(message).startsWith("target_path " + target);
    assertThat(codeOf(() -> publishModel(node, "csi-refused", target)))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(listing(node.root)).isEqualTo(before);
    assertThat(mountsAt(target)).isEqualTo(mountsBefore);
    assertServesModel(target("own-dirs-other"));
  }

  @Test
  void targetsReachedThroughASymlinkAFileOrAFullDirectoryAreRefusedAndNothingIsLeft()
      throws Exception {
    TestNode node = node("bad-targets");
    Path scratch = Files.createDirectories(tmp.resolve("bad-targets-scratch"));
    Path elsewhere = Files.createDirectories(scratch.resolve("elsewhere"));
    Path linkToDir = Files.createSymbolicLink(scratch.resolve("link-to-dir"), elsewhere);
    Path underLinkedParent = linkToDir.resolve("mount");
    Path file = Files.writeString(scratch.resolve("file"), "a file");
    Path full = Files.createDirectories(scratch.resolve("full"));
    Files.writeString(full.resolve("data"), "would be hidden");

    for (Path target : List.of(linkToDir, underLinkedParent, file, full)) {
      assertThat(codeOf(() -> publishModel(node, "csi-bad", target))).as(target.toString())
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(isMountPoint(target)).as(target.toString()).isFalse();
    }

    assertThat(elsewhere).isEmptyDirectory();
    assertThat(file).hasContent("a file");
    assertThat(full.resolve("data")).hasContent("would be hidden");
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
  }

  @Test
  void accessModesThatAreNoneAndReferencesWithSpacesAreInvalidArguments() throws Exception {
    TestNode node = node("bad-requests");
    Path target = target("bad-requests");
    Function<Integer, NodePublishVolumeRequest> withMode = mode ->
        publish("csi-mode", target, model.reference().toString())
            .setVolumeCapability(VolumeCapability.newBuilder()
                .setMount(VolumeCapability.MountVolume.getDefaultInstance())
                .setAccessMode(AccessMode.newBuilder().setModeValue(mode))).build();

    for (int mode : new int[] {0, 99}) {
      assertThat(messageOf(() -> node.csi.node().nodePublishVolume(withMode.apply(mode))))
          .contains("access_mode");
    }
    assertThat(codeOf(() -> node.csi.node().nodePublishVolume(publish("csi-mode", target,
        model.reference().toString()).setVolumeCapability(VolumeCapability.newBuilder()
            .setMount(VolumeCapability.MountVolume.getDefaultInstance())).build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(codeOf(() -> node.csi.node().nodePublishVolume(publish("csi-space", target,
        " " + model.reference()).build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(target).doesNotExist();
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
  }

  @Test
  void aPulledVolumeMissingFilesIsPulledAgainInsteadOfMountedPartial() throws Exception {
    TestNode node = node("partial");
    Path target = target("partial");
    publishModel(node, "csi-partial", target);
    Commands.run("umount", target.toString()); // e.g. a node reboot: the status still says MOUNTED
    Path model = node.root.resolve("volumes/csi-partial/model");
    Files.delete(model.resolve("tokenizer/merges.txt"));
    Files.delete(model.resolve("config.json"));

    publishModel(node, "csi-partial", target);

    assertServesModel(target);
  }

  @Test
  void aStartFinishesInterruptedRemovalsAndDeletesTheDriversTemporaryFiles() throws Exception {
    Path root = tmp.resolve("leftovers");
    TestNode first = node("leftovers");
    publishModel(first, "csi-kept", target("leftovers"));
    first.close();
    Path volumes = root.resolve("volumes");
    Path removing = Files.createDirectories(volumes.resolve(".removing-csi-gone-12/model/sub"));
    Files.writeString(removing.resolve("w.bin"), "half deleted");
    Path status = Files.writeString(volumes.resolve("csi-kept/.status.json123.tmp"), "{");
    Path meta = Files.writeString(root.resolve("store/trees/sha256/.abc.json9.tmp"), "{");
    Path ref = Files.writeString(root.resolve("store/refs/.x.json7.tmp"), "{");
    Path partial = Files.writeString(root.resolve("store/ingest/sha256-1-2.partial"), "x");

    node("leftovers");

    assertThat(volumes.resolve(".removing-csi-gone-12")).doesNotExist();
    for (Path p : List.of(status, meta, ref, partial)) {
      assertThat(p).as(p.toString()).doesNotExist();
    }
    assertServesModel(target("leftovers"));
  }

  /** The mounts at {@code target} or under the test's directory (other tests mount too). */
  private static List<MountEntry> mountsAt(Path target) {
    return new MountTable().entries().stream()
        .filter(e -> e.mountPoint().equals(target) || e.mountPoint().startsWith(tmp)).toList();
  }

  /** Every path under {@code dir} (not following links), sorted. */
  private static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }
}
