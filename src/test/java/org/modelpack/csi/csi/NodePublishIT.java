package org.modelpack.csi.csi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import csi.v1.Csi.NodePublishVolumeRequest;
import csi.v1.Csi.VolumeCapability;
import csi.v1.Csi.VolumeCapability.AccessMode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.Content;
import org.modelpack.csi.testing.ModelArtifactBuilder.Family;
import org.modelpack.csi.testing.ModelArtifactBuilder.FileMeta;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.RegistryServer;

/**
 * The node plugin in-process, over its real unix socket, against a real registry, with real bind
 * mounts: what kubelet sees for inline volumes. Requires root.
 */
class NodePublishIT {
  @TempDir static Path tmp;
  static RegistryServer registry;
  static RegistryClient pusher;
  static NodePlugin plugin;
  static CsiClient csi;
  static Path root;
  static PushedArtifact mixed;
  static PushedArtifact legacy;

  @BeforeAll
  static void start() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("no-docker-config")));
    mixed = ModelArtifactBuilder.create(tmp.resolve("a1"))
        .rawFile("weight", "model-00001-of-00002.safetensors", Content.generated(3_000_000, 1),
            new FileMeta(0644, Instant.parse("2025-01-02T03:04:05Z")))
        .rawFile("model-00002-of-00002.safetensors", 1_500_000, 2)
        .rawFile("weight.config", "config/config.json", Content.text("{\"a\":1}"),
            new FileMeta(0600, Instant.parse("2024-06-01T00:00:00Z")))
        .rawFile("code", "run.sh", Content.text("#!/bin/sh\necho hi\n"),
            new FileMeta(0755, Instant.parse("2024-06-01T00:00:00Z")))
        .tarLayer(Compression.NONE, TarEntry.file("docs/README.md", 2000, 3),
            TarEntry.file("docs/LICENSE", 100, 4))
        .tarLayer(Compression.GZIP, TarEntry.file("tokenizer/tokenizer.json", 50_000, 5))
        .tarLayer(Compression.ZSTD, TarEntry.file("extra/merges.txt", 70_000, 6))
        .push(pusher, ref("models/mixed:v1"));
    legacy = ModelArtifactBuilder.create(tmp.resolve("a2")).family(Family.CNAI)
        .rawFile("weights.bin", 200_000, 7)
        .tarLayer(Compression.NONE, TarEntry.file("vocab.txt", 300, 8))
        .wrapInIndexWithDecoy()
        .push(pusher, ref("models/legacy:v1"));
    root = tmp.resolve("root");
    plugin = startPlugin(root, tmp.resolve("no-docker-config"));
    csi = new CsiClient(plugin.config().csiEndpoint());
  }

  static NodePlugin startPlugin(Path rootDir, Path dockerConfig) throws IOException {
    return NodePlugin.start(new ConfigLoader(Map.of(), () -> "test-node", tmp).parse("""
        root_dir: %s
        csi_endpoint: unix://%s/csi.sock
        pull_config:
          docker_config_dir: %s
        """.formatted(rootDir, rootDir, dockerConfig)));
  }

  @AfterAll
  static void stop() throws Exception {
    org.modelpack.csi.testing.CsiRequests.unmountAllUnder(tmp);
    Closeables.closeAll(csi, plugin, pusher, registry);
  }

  static Reference ref(String repoAndTag) {
    return Reference.parse(registry.host() + "/" + repoAndTag);
  }

  static Status.Code codeOf(Runnable call) {
    return org.modelpack.csi.testing.CsiRequests.statusOf(call).getCode();
  }

  static void assertServes(Path target, PushedArtifact artifact) throws IOException {
    for (PushedFile f : artifact.files()) {
      assertThat(sha256(target.resolve(f.path()))).as(f.path()).isEqualTo(f.sha256());
    }
  }

  static void assertVolumeGone(String volumeId, Path target) throws IOException {
    assertThat(isMountPoint(target)).isFalse();
    assertThat(target).doesNotExist();
    assertThat(root.resolve("volumes").resolve(volumeId)).doesNotExist();
  }

  @Test
  void publishServesEveryFileVerifiedReadOnlyAndUnpublishLeavesNothing() throws Exception {
    Path target = tmp.resolve("pods/p1/volumes/model");
    csi.node().nodePublishVolume(publish("csi-mixed", target, mixed.reference().toString())
        .build());

    assertThat(isMountPoint(target)).isTrue();
    assertServes(target, mixed);
    assertThat(Files.getLastModifiedTime(target.resolve("model-00001-of-00002.safetensors"))
        .toInstant()).isEqualTo(Instant.parse("2025-01-02T03:04:05Z"));
    assertThat(Files.isExecutable(target.resolve("run.sh"))).isTrue();
    assertThatThrownBy(() -> Files.writeString(target.resolve("new.txt"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.writeString(target.resolve("config/config.json"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    String status = Files.readString(root.resolve("volumes/csi-mixed/status.json"));
    assertThat(status).contains("\"state\" : \"MOUNTED\"", mixed.manifestDigest(),
        "\"inline\" : true");

    csi.node().nodeUnpublishVolume(unpublish("csi-mixed", target));
    assertVolumeGone("csi-mixed", target);
    csi.node().nodeUnpublishVolume(unpublish("csi-mixed", target));
  }

  @Test
  void legacyCnaiArtifactBehindAnIndexIsServed() throws Exception {
    Path target = tmp.resolve("pods/p2/volumes/model");
    csi.node().nodePublishVolume(publish("csi-legacy", target, legacy.reference().toString())
        .build());
    assertServes(target, legacy);
    csi.node().nodeUnpublishVolume(unpublish("csi-legacy", target));
    assertVolumeGone("csi-legacy", target);
  }

  @Test
  void repeatedPublishOfTheSameVolumeSucceedsWithoutDownloadingAgain() throws Exception {
    Path target = tmp.resolve("pods/p3/volumes/model");
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("a3"))
        .rawFile("w.bin", 100_000, 30).push(pusher, ref("models/repeat:v1"));
    String blob = "sha256:" + a.files().get(0).sha256();
    NodePublishVolumeRequest req = publish("csi-repeat", target, a.reference().toString()).build();

    csi.node().nodePublishVolume(req);
    long served = registry.countBlobGets(blob);
    csi.node().nodePublishVolume(req);
    csi.node().nodePublishVolume(req);

    assertThat(served).isEqualTo(1);
    assertThat(registry.countBlobGets(blob)).isEqualTo(1);
    assertServes(target, a);
    csi.node().nodeUnpublishVolume(unpublish("csi-repeat", target));
    assertVolumeGone("csi-repeat", target);
  }

  @Test
  void aSecondTargetSharesTheVolumeAndDataStaysUntilTheLastTargetIsUnpublished()
      throws Exception {
    Path t1 = tmp.resolve("pods/p4a/volumes/model");
    Path t2 = tmp.resolve("pods/p4b/volumes/model");
    String reference = legacy.reference().toString();
    csi.node().nodePublishVolume(publish("csi-shared", t1, reference).build());
    csi.node().nodePublishVolume(publish("csi-shared", t2, reference).build());
    assertServes(t2, legacy);

    csi.node().nodeUnpublishVolume(unpublish("csi-shared", t1));
    assertThat(isMountPoint(t1)).isFalse();
    assertServes(t2, legacy);

    csi.node().nodeUnpublishVolume(unpublish("csi-shared", t2));
    assertVolumeGone("csi-shared", t2);
  }

  @Test
  void singleWriterVolumeRefusesASecondTarget() throws Exception {
    Path t1 = tmp.resolve("pods/p5a/volumes/model");
    Path t2 = tmp.resolve("pods/p5b/volumes/model");
    VolumeCapability ssw = org.modelpack.csi.testing.CsiRequests.mountCapability(
        AccessMode.Mode.SINGLE_NODE_SINGLE_WRITER);
    String reference = legacy.reference().toString();
    csi.node().nodePublishVolume(publish("csi-ssw", t1, reference).setVolumeCapability(ssw)
        .build());
    assertThat(codeOf(() -> csi.node().nodePublishVolume(
        publish("csi-ssw", t2, reference).setVolumeCapability(ssw).build())))
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(t2).doesNotExist();
    csi.node().nodeUnpublishVolume(unpublish("csi-ssw", t1));
    assertVolumeGone("csi-ssw", t1);
  }

  @Test
  void theSameVolumeCannotServeADifferentReference() throws Exception {
    Path t1 = tmp.resolve("pods/p6a/volumes/model");
    Path t2 = tmp.resolve("pods/p6b/volumes/model");
    csi.node().nodePublishVolume(publish("csi-other", t1, legacy.reference().toString()).build());
    assertThat(codeOf(() -> csi.node().nodePublishVolume(
        publish("csi-other", t2, mixed.reference().toString()).build())))
        .isEqualTo(Status.Code.ALREADY_EXISTS);
    csi.node().nodeUnpublishVolume(unpublish("csi-other", t1));
    assertVolumeGone("csi-other", t1);
  }

  @Test
  void invalidRequestsAreRefusedWithInvalidArgumentAndCreateNothing() throws Exception {
    Path target = tmp.resolve("pods/p7/volumes/model");
    String reference = legacy.reference().toString();
    List<NodePublishVolumeRequest> bad = List.of(
        publish("", target, reference).build(),
        publish("../escape", target, reference).build(),
        publish("a/b", target, reference).build(),
        publish("csi-bad", target, reference).clearTargetPath().build(),
        publish("csi-bad", Path.of("relative/path"), reference).build(),
        publish("csi-bad", target, reference).clearVolumeCapability().build(),
        publish("csi-bad", target, reference).setVolumeCapability(VolumeCapability.newBuilder()
            .setBlock(VolumeCapability.BlockVolume.getDefaultInstance())).build(),
        // (no reference at all is a dynamic volume; a blank one is a mistake)
        publish("csi-bad", target, "  ").build(),
        publish("csi-bad", target, "not a reference!").build(),
        // a dynamic volume (no reference) is checked as any other publish (csi-sanity does so)
        CsiRequests.publishDynamic("csi-bad", target).toBuilder().clearVolumeCapability()
            .build(),
        CsiRequests.publishDynamic("csi-bad", target).toBuilder().setVolumeCapability(
            VolumeCapability.newBuilder().setBlock(VolumeCapability.BlockVolume
                .getDefaultInstance())).build(),
        CsiRequests.publishDynamic("csi-bad", target).toBuilder().clearTargetPath().build());
    for (NodePublishVolumeRequest req : bad) {
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> csi.node().nodePublishVolume(req));
      assertThat(e.getStatus().getCode()).as(req.toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).isNotBlank();
    }
    assertThat(target).doesNotExist();
    assertThat(root.resolve("volumes/csi-bad")).doesNotExist();
  }

  @Test
  void unknownTagIsNotFoundAndLeavesNothing() throws Exception {
    Path target = tmp.resolve("pods/p8/volumes/model");
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> csi.node().nodePublishVolume(
            publish("csi-missing", target, registry.host() + "/models/mixed:nope").build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(e.getStatus().getDescription()).contains("models/mixed:nope");
    assertThat(root.resolve("volumes/csi-missing")).doesNotExist();
    assertThat(target).doesNotExist();
  }

  @Test
  void unreachableRegistryIsUnavailable() throws Exception {
    Path target = tmp.resolve("pods/p9/volumes/model");
    int closedPort;
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    assertThat(codeOf(() -> csi.node().nodePublishVolume(publish("csi-unreachable", target,
        "127.0.0.1:" + closedPort + "/models/x:v1").build()))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(root.resolve("volumes/csi-unreachable")).doesNotExist();
  }

  @Test
  void maliciousArtifactsAreRefusedAndNothingIsWrittenOutsideTheVolume() throws Exception {
    Content evil = Content.text("owned");
    Map<String, ModelArtifactBuilder> attacks = new java.util.LinkedHashMap<>();
    attacks.put("traversal", ModelArtifactBuilder.create(tmp.resolve("m1"))
        .rawFile("ok.bin", 10, 1).rawLayerWithFilepath("../../../escape-raw", evil));
    attacks.put("absolute", ModelArtifactBuilder.create(tmp.resolve("m2"))
        .rawLayerWithFilepath(tmp.resolve("escape-abs").toString(), evil));
    attacks.put("tar-dotdot", ModelArtifactBuilder.create(tmp.resolve("m3"))
        .rawFile("ok.bin", 10, 1)
        .tarLayer(Compression.NONE, TarEntry.file("fine.txt", 10, 2),
            TarEntry.file("../../../escape-tar", evil)));
    attacks.put("tar-absolute", ModelArtifactBuilder.create(tmp.resolve("m4"))
        .tarLayer(Compression.GZIP, TarEntry.file(tmp.resolve("escape-tarabs").toString(), evil)));
    attacks.put("tar-symlink", ModelArtifactBuilder.create(tmp.resolve("m5"))
        .tarLayer(Compression.NONE, TarEntry.symlink("link", tmp.toString()),
            TarEntry.file("link/escape-symlink", evil)));
    attacks.put("tar-hardlink", ModelArtifactBuilder.create(tmp.resolve("m6"))
        .tarLayer(Compression.NONE, TarEntry.hardlink("passwd", "/etc/passwd")));
    attacks.put("duplicate", ModelArtifactBuilder.create(tmp.resolve("m7"))
        .rawFile("same.bin", 10, 1).rawFile("same.bin", 11, 2));

    for (var attack : attacks.entrySet()) {
      String name = attack.getKey();
      PushedArtifact a = attack.getValue().push(pusher, ref("evil/" + name + ":v1"));
      Path target = tmp.resolve("pods/evil-" + name + "/volumes/model");
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> csi.node().nodePublishVolume(
              publish("csi-evil-" + name, target, a.reference().toString()).build()), name);
      assertThat(e.getStatus().getCode()).as(name).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).as(name).contains("layer");
      assertThat(isMountPoint(target)).as(name).isFalse();
      assertThat(target).as(name).doesNotExist();
      assertThat(root.resolve("volumes/csi-evil-" + name)).as(name).doesNotExist();
    }
    try (Stream<Path> all = Files.walk(tmp)) {
      assertThat(all.filter(p -> p.getFileName().toString().startsWith("escape-"))).isEmpty();
    }
    assertThat(Files.readString(Path.of("/etc/passwd"))).doesNotContain("owned");
  }

  @Test
  void writableVolumeGetsPrivateCopiesWhileSharedVolumesKeepTheStoreInode() throws Exception {
    Path shared = tmp.resolve("pods/w1/volumes/model");
    Path writable = tmp.resolve("pods/w2/volumes/model");
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("aw"))
        .rawFile("weights.bin", 50_000, 40).push(pusher, ref("models/writable:v1"));
    PushedFile f = a.files().get(0);
    Path storeFile = root.resolve("store/blobs/sha256/" + f.sha256());
    csi.node().nodePublishVolume(publish("csi-shared-ro", shared, a.reference().toString())
        .build());
    csi.node().nodePublishVolume(publish("csi-writable", writable, a.reference().toString())
        .putVolumeContext("model.csi.modelpack.org/writable", "true").setReadonly(false).build());

    Object storeInode = Files.getAttribute(storeFile, "unix:ino");
    assertThat(Files.getAttribute(shared.resolve("weights.bin"), "unix:ino")).isEqualTo(storeInode);
    assertThat(Files.getAttribute(writable.resolve("weights.bin"), "unix:ino"))
        .isNotEqualTo(storeInode);
    Files.writeString(writable.resolve("weights.bin"), "changed by the pod");
    Files.writeString(writable.resolve("scratch.txt"), "new file");
    assertThat(sha256(storeFile)).isEqualTo(f.sha256());
    assertThat(sha256(shared.resolve("weights.bin"))).isEqualTo(f.sha256());
    assertThatThrownBy(() -> Files.writeString(shared.resolve("weights.bin"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");

    csi.node().nodeUnpublishVolume(unpublish("csi-writable", writable));
    csi.node().nodeUnpublishVolume(unpublish("csi-shared-ro", shared));
    assertVolumeGone("csi-writable", writable);
    assertVolumeGone("csi-shared-ro", shared);
  }

  @Test
  void writableWithReadonlyOrAReaderModeIsRefused() {
    String reference = legacy.reference().toString();
    Path target = tmp.resolve("pods/w3/volumes/model");
    assertThat(codeOf(() -> csi.node().nodePublishVolume(publish("csi-w3", target, reference)
        .putVolumeContext("model.csi.modelpack.org/writable", "true").setReadonly(true).build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(codeOf(() -> csi.node().nodePublishVolume(publish("csi-w3", target, reference)
        .putVolumeContext("model.csi.modelpack.org/writable", "maybe").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(target).doesNotExist();
  }

  @Test
  void operatorViewListsEntriesWithTheirVolumesAndEvictsOnlyUnreferencedOnes() throws Exception {
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("aadmin"))
        .rawFile("kept.bin", 30_000, 50).push(pusher, ref("models/admin-kept:v1"));
    PushedArtifact b = ModelArtifactBuilder.create(tmp.resolve("badmin"))
        .rawFile("dropped.bin", 40_000, 51).push(pusher, ref("models/admin-dropped:v1"));
    Path ta = tmp.resolve("pods/admin-a/volumes/model");
    Path tb = tmp.resolve("pods/admin-b/volumes/model");
    csi.node().nodePublishVolume(publish("csi-admin-a", ta, a.reference().toString()).build());
    csi.node().nodePublishVolume(publish("csi-admin-b", tb, b.reference().toString()).build());
    csi.node().nodeUnpublishVolume(unpublish("csi-admin-b", tb));
    String kept = "sha256:" + a.files().get(0).sha256();
    String dropped = "sha256:" + b.files().get(0).sha256();

    var list = csi.storeAdmin().listEntries(
        org.modelpack.csi.admin.v1.ListEntriesRequest.getDefaultInstance());
    assertThat(list.getEntriesList()).anySatisfy(e -> {
      assertThat(e.getDigest()).isEqualTo(kept);
      assertThat(e.getVolumesList()).containsExactly("csi-admin-a");
      assertThat(e.getSizeBytes()).isEqualTo(30_000);
    });
    assertThat(list.getEntriesList()).anySatisfy(e -> {
      assertThat(e.getDigest()).isEqualTo(dropped);
      assertThat(e.getVolumesList()).isEmpty();
    });
    assertThat(list.getCounters().getMisses()).isPositive();

    var evicted = csi.storeAdmin().evict(org.modelpack.csi.admin.v1.EvictRequest.newBuilder()
        .setAllUnreferenced(true).build());
    assertThat(evicted.getEvictedList()).contains("blob:" + dropped).doesNotContain("blob:" + kept);
    assertThat(root.resolve("store/blobs/sha256/" + b.files().get(0).sha256())).doesNotExist();
    assertThat(root.resolve("store/blobs/sha256/" + a.files().get(0).sha256())).exists();
    assertServes(ta, a);
    csi.node().nodeUnpublishVolume(unpublish("csi-admin-a", ta));
    assertVolumeGone("csi-admin-a", ta);
  }
}
