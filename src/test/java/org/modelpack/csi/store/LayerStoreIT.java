package org.modelpack.csi.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.modelpack.ModelMediaTypes;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.Content;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.RegistryServer;
import org.modelpack.csi.testing.TestNode;

/**
 * The node-wide layer store behind the real CSI socket: a real registry, the node plugin
 * in-process, real bind mounts (and a tmpfs for the store in one test). Requires root.
 */
@Timeout(180)
class LayerStoreIT extends NodesWithRegistry {
  private static final Duration WAIT = Duration.ofSeconds(30);

  // ------------------------------------------------------------------ one download per node

  @Test
  void eightVolumesPublishingOneUncachedModelAtOnceDownloadEachLayerOnceAndShareInodes()
      throws Exception {
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("a-eight"))
        .rawFile("model-00001-of-00002.safetensors", 4_000_000, 11)
        .rawFile("model-00002-of-00002.safetensors", 2_000_000, 12)
        // The same bytes under a second name: one layer digest, one store entry.
        .rawFile("copy/model-00002-of-00002.safetensors", 2_000_000, 12)
        .tarLayer(Compression.GZIP, TarEntry.file("tokenizer/tokenizer.json", 300_000, 13),
            TarEntry.file("tokenizer/vocab.txt", 50_000, 14))
        .push(pusher, ref("models/eight:v1"));
    TestNode node = startNode("root-eight", "");
    int n = 8;
    CyclicBarrier together = new CyclicBarrier(n);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    List<Future<?>> publishes = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        String volume = "eight-" + i;
        Path target = target("eight-" + i);
        publishes.add(pool.submit(() -> {
          together.await();
          return node.csi.node().nodePublishVolume(
              publish(volume, target, model.reference().toString()).build());
        }));
      }
      for (Future<?> f : publishes) {
        f.get(WAIT.toSeconds() * 2, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    for (Descriptor layer : model.manifest().layers()) {
      await().atMost(WAIT).until(() -> registry.countBlobGets(layer.digest()) >= 1);
      assertThat(registry.countBlobGets(layer.digest())).as(layer.digest()).isEqualTo(1);
    }
    Map<String, Path> storeFiles = storeFiles(node.plugin.store().layout(), model);
    for (PushedFile f : model.files()) {
      Set<Object> inodes = new java.util.HashSet<>();
      inodes.add(inode(storeFiles.get(f.path())));
      for (int i = 0; i < n; i++) {
        Path file = target("eight-" + i).resolve(f.path());
        assertThat(sha256(file)).as(file.toString()).isEqualTo(f.sha256());
        inodes.add(inode(file));
      }
      assertThat(inodes).as("one inode for %s in the store and all volumes", f.path())
          .hasSize(1);
    }
    assertThat(inode(target("eight-0").resolve("copy/model-00002-of-00002.safetensors")))
        .isEqualTo(inode(target("eight-0").resolve("model-00002-of-00002.safetensors")));
    StoreStats.Snapshot stats = node.plugin.store().stats().snapshot();
    assertThat(stats.misses()).isEqualTo(model.manifest().layers().stream()
        .map(Descriptor::digest).distinct().count());

    for (int i = 0; i < n; i++) {
      node.csi.node().nodeUnpublishVolume(unpublish("eight-" + i, target("eight-" + i)));
      assertThat(isMountPoint(target("eight-" + i))).isFalse();
    }
    // The volumes are gone; their entries stay as warm cache, referenced by nobody.
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
    assertThat(node.plugin.store().entries()).isNotEmpty()
        .allSatisfy(e -> assertThat(e.volumes()).isEmpty());
    storeFiles.values().forEach(p -> assertThat(p).isRegularFile());
  }

  // ------------------------------------------------------------------ restart, offline

  @Test
  void afterARestartAModelIsPublishedByTagFromTheStoreWithTheRegistryGone() throws Exception {
    RegistryServer own = RegistryServer.start(tmp.resolve("registry-restart"));
    closeAfterTest(own);
    String byTag = own.host() + "/models/restart:v1";
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("a-restart"))
        .rawFile("weights.safetensors", 1_000_000, 21)
        .tarLayer(Compression.NONE, TarEntry.file("docs/README.md", 3_000, 22))
        .push(pusher, Reference.parse(byTag));

    TestNode first = startNode("root-restart", "");
    first.csi.node().nodePublishVolume(publish("restart-1", target("restart-1"), byTag).build());
    // Stays published across the restart.
    first.csi.node().nodePublishVolume(publish("restart-kept", target("restart-kept"), byTag)
        .build());
    assertServes(target("restart-1"), model);
    first.csi.node().nodeUnpublishVolume(unpublish("restart-1", target("restart-1")));
    first.close();
    own.stop();

    TestNode second = startNode("root-restart", "");
    assertThat(second.plugin.store().entries()).hasSize(model.manifest().layers().size())
        .allSatisfy(e -> assertThat(e.volumes()).containsExactly("restart-kept"));
    second.csi.node().nodePublishVolume(publish("restart-2", target("restart-2"), byTag).build());

    assertServes(target("restart-2"), model);
    StoreStats.Snapshot stats = second.plugin.store().stats().snapshot();
    assertThat(stats.misses()).isZero();
    assertThat(stats.bytesDownloaded()).isZero();
    assertThat(stats.hits()).isEqualTo(model.manifest().layers().size());
    for (Descriptor layer : model.manifest().layers()) {
      assertThat(own.countBlobGets(layer.digest())).as(layer.digest()).isEqualTo(1);
    }
    String status = Files.readString(second.root.resolve("volumes/restart-2/status.json"));
    assertThat(status).contains(model.manifestDigest());
    second.csi.node().nodeUnpublishVolume(unpublish("restart-2", target("restart-2")));
    assertThat(second.root.resolve("volumes/restart-2")).doesNotExist();
    assertServes(target("restart-kept"), model);
    second.csi.node().nodeUnpublishVolume(unpublish("restart-kept", target("restart-kept")));
    assertThat(isMountPoint(target("restart-kept"))).isFalse();
    assertThat(second.plugin.store().entries()).allSatisfy(e -> assertThat(e.volumes()).isEmpty());
  }

  @Test
  void aTagMovedSinceItsLastPullIsFollowedAndNothingOfTheOldModelStaysInTheVolume()
      throws Exception {
    PushedArtifact before = ModelArtifactBuilder.create(tmp.resolve("a-moving-before"))
        .rawFile("weights-old.safetensors", 500_000, 31)
        .rawFile("config.json", 2_000, 33)
        .push(pusher, ref("models/moving:v1"));
    TestNode node = startNode("root-moving", "");
    String byTag = ref("models/moving:v1").toString();
    node.csi.node().nodePublishVolume(publish("moving-1", target("moving-1"), byTag).build());
    node.csi.node().nodeUnpublishVolume(unpublish("moving-1", target("moving-1")));

    PushedArtifact after = ModelArtifactBuilder.create(tmp.resolve("a-moving-after"))
        .rawFile("weights-new.safetensors", 600_000, 32)
        .rawFile("config.json", 2_000, 33)
        .push(pusher, ref("models/moving:v1"));
    // Every layer of the old manifest is still stored: the publish links them early, then
    // learns from the registry that the tag moved.
    node.csi.node().nodePublishVolume(publish("moving-2", target("moving-2"), byTag).build());
    assertThat(node.plugin.store().stats().snapshot().hits())
        .as("both old layers linked early, then the shared config.json again")
        .isEqualTo(3);

    assertServes(target("moving-2"), after);
    assertThat(target("moving-2").resolve("weights-old.safetensors")).doesNotExist();
    try (Stream<Path> files = Files.list(target("moving-2"))) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder("weights-new.safetensors", "config.json");
    }
    assertThat(Files.readString(node.root.resolve("volumes/moving-2/status.json")))
        .contains(after.manifestDigest());
    Set<String> newLayers = after.manifest().layers().stream().map(Descriptor::digest)
        .collect(Collectors.toSet());
    assertThat(node.plugin.store().entries()).allSatisfy(e -> assertThat(e.volumes())
        .isEqualTo(newLayers.contains(e.key().digest()) ? Set.of("moving-2") : Set.of()));

    // The record now names the new manifest: the next publish is warm again, without downloads.
    long downloaded = node.plugin.store().stats().snapshot().bytesDownloaded();
    node.csi.node().nodePublishVolume(publish("moving-3", target("moving-3"), byTag).build());
    assertServes(target("moving-3"), after);
    assertThat(node.plugin.store().stats().snapshot().bytesDownloaded()).isEqualTo(downloaded);
  }

  @Test
  void aStoreFileRemovedByHandIsDownloadedAgainInsteadOfFailingThePublish() throws Exception {
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("a-vanished"))
        .rawFile("weights.safetensors", 700_000, 35)
        .rawFile("config.json", 1_000, 36)
        .push(pusher, ref("models/vanished:v1"));
    TestNode node = startNode("root-vanished", "");
    String byTag = ref("models/vanished:v1").toString();
    node.csi.node().nodePublishVolume(publish("vanished-1", target("vanished-1"), byTag).build());
    node.csi.node().nodeUnpublishVolume(unpublish("vanished-1", target("vanished-1")));
    // A raw layer's digest is its file's.
    String weights = "sha256:" + model.file("weights.safetensors").sha256();
    Files.delete(storeFiles(node.plugin.store().layout(), model).get("weights.safetensors"));

    node.csi.node().nodePublishVolume(publish("vanished-2", target("vanished-2"), byTag).build());

    assertServes(target("vanished-2"), model);
    assertThat(registry.countBlobGets(weights)).isEqualTo(2);
    for (Descriptor layer : model.manifest().layers()) {
      if (!layer.digest().equals(weights)) {
        assertThat(registry.countBlobGets(layer.digest())).as(layer.digest()).isEqualTo(1);
      }
    }
  }

  @Test
  void behindASymlinkedRootAVolumeStillMountedIsNotRemovedAtStartEvenIfItsStatusSaysPulling()
      throws Exception {
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("a-linked"))
        .rawFile("weights.safetensors", 300_000, 37)
        .push(pusher, ref("models/linked:v1"));
    Files.createDirectories(tmp.resolve("root-linked-real"));
    Files.createSymbolicLink(tmp.resolve("root-linked"), tmp.resolve("root-linked-real"));
    TestNode first = startNode("root-linked", "");
    first.csi.node().nodePublishVolume(publish("linked-1", target("linked-1"),
        model.reference().toString()).build());
    // As if the process had died between the mount and its status write.
    Path status = first.root.resolve("volumes/linked-1/status.json");
    Files.writeString(status, Files.readString(status).replace("MOUNTED", "PULLING"));
    first.close();

    startNode("root-linked", "");

    assertThat(tmp.resolve("root-linked-real/volumes/linked-1")).isDirectory();
    assertServes(target("linked-1"), model);
  }

  // ------------------------------------------------------------------ store on another fs

  @Test
  void withTheStoreOnAnotherFilesystemVolumesGetCompleteClonesOrCopiesOfOneDownload()
      throws Exception {
    Path tmpfs = mountTmpfs("tmpfs", "256m");
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("a-exdev"))
        .rawFile("model.safetensors", 3_000_000, 31)
        .tarLayer(Compression.ZSTD, TarEntry.file("tokenizer/merges.txt", 200_000, 32))
        .push(pusher, ref("models/exdev:v1"));
    TestNode node = startNode("root-exdev", "dir: " + tmpfs.resolve("store"));
    assertThat(node.plugin.store().layout().root()).isEqualTo(tmpfs.resolve("store"));

    for (String volume : List.of("exdev-1", "exdev-2")) {
      node.csi.node().nodePublishVolume(publish(volume, target(volume),
          model.reference().toString()).build());
    }

    Object storeDev = Files.getAttribute(tmpfs, "unix:dev");
    Object volumesDev = Files.getAttribute(node.root.resolve("volumes"), "unix:dev");
    assertThat(volumesDev).isNotEqualTo(storeDev);
    Map<String, Path> storeFiles = storeFiles(node.plugin.store().layout(), model);
    for (PushedFile f : model.files()) {
      assertThat(Files.getAttribute(storeFiles.get(f.path()), "unix:dev")).isEqualTo(storeDev);
      assertThat(sha256(storeFiles.get(f.path()))).isEqualTo(f.sha256());
      for (String volume : List.of("exdev-1", "exdev-2")) {
        Path file = target(volume).resolve(f.path());
        assertThat(Files.size(file)).as(file.toString()).isEqualTo(f.size());
        assertThat(sha256(file)).as(file.toString()).isEqualTo(f.sha256());
        assertThat(Files.getAttribute(file, "unix:dev")).isNotEqualTo(storeDev);
      }
    }
    for (Descriptor layer : model.manifest().layers()) {
      await().atMost(WAIT).until(() -> registry.countBlobGets(layer.digest()) >= 1);
      assertThat(registry.countBlobGets(layer.digest())).as(layer.digest()).isEqualTo(1);
    }
    for (String volume : List.of("exdev-1", "exdev-2")) {
      node.csi.node().nodeUnpublishVolume(unpublish(volume, target(volume)));
      assertThat(node.root.resolve("volumes").resolve(volume)).doesNotExist();
    }
    storeFiles.values().forEach(p -> assertThat(p).isRegularFile());
  }

  // ------------------------------------------------------------------ read-only sharing

  @Test
  void writingThroughAnyVolumeToASharedFileFailsAndTheStoreCopyIsUnchanged() throws Exception {
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("a-ro"))
        .rawFile("model.safetensors", 500_000, 41)
        .tarLayer(Compression.NONE, TarEntry.file("config/config.json", 2_000, 42))
        .push(pusher, ref("models/ro:v1"));
    TestNode node = startNode("root-ro", "");
    List<String> volumes = List.of("ro-1", "ro-2");
    for (String volume : volumes) {
      node.csi.node().nodePublishVolume(publish(volume, target(volume),
          model.reference().toString()).build());
    }
    Map<String, Path> storeFiles = storeFiles(node.plugin.store().layout(), model);
    Map<Path, String> before = new HashMap<>();
    for (Path p : storeFiles.values()) {
      before.put(p, sha256(p));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
          .as(p.toString()).isEqualTo("r--r--r--");
    }
    Path tree = node.plugin.store().layout().path(new LayerKey(
        model.manifest().layers().get(1).digest(), EntryKind.TREE));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tree.resolve("config"))))
        .isEqualTo("r-xr-xr-x");

    for (String volume : volumes) {
      for (PushedFile f : model.files()) {
        Path file = target(volume).resolve(f.path());
        assertThatThrownBy(() -> Files.write(file, new byte[] {1, 2, 3}, StandardOpenOption.APPEND))
            .as(file.toString()).isInstanceOf(FileSystemException.class)
            .hasMessageContaining("Read-only file system");
        assertThatThrownBy(() -> Files.write(file, new byte[] {1},
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE))
            .as(file.toString()).isInstanceOf(FileSystemException.class)
            .hasMessageContaining("Read-only file system");
        assertThatThrownBy(() -> Files.setPosixFilePermissions(file,
            PosixFilePermissions.fromString("rw-rw-rw-")))
            .as(file.toString()).isInstanceOf(FileSystemException.class)
            .hasMessageContaining("Read-only file system");
        assertThatThrownBy(() -> Files.delete(file)).as(file.toString())
            .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
      }
    }

    for (Map.Entry<Path, String> e : before.entrySet()) {
      assertThat(sha256(e.getKey())).as(e.getKey().toString()).isEqualTo(e.getValue());
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(e.getKey())))
          .isEqualTo("r--r--r--");
    }
    for (String volume : volumes) {
      assertServes(target(volume), model);
      node.csi.node().nodeUnpublishVolume(unpublish(volume, target(volume)));
    }
  }

  // ------------------------------------------------------------------ eviction

  @Test
  void overTheSizeBudgetTheLeastRecentlyUsedUnpublishedModelLeavesTheStore() throws Exception {
    // Four one-layer models of 1 MB and a 3.5 MB budget.
    Map<String, PushedArtifact> models = new LinkedHashMap<>();
    int seed = 50;
    for (String name : List.of("kept", "a", "b", "c")) {
      models.put(name, ModelArtifactBuilder.create(tmp.resolve("a-evict-" + name))
          .rawFile(name + ".safetensors", 1_000_000, seed++)
          .push(pusher, ref("models/evict-" + name + ":v1")));
    }
    TestNode node = startNode("root-evict", "max_size: 3500000");
    StoreLayout layout = node.plugin.store().layout();

    // "kept" stays published throughout: the oldest entry, but referenced.
    node.csi.node().nodePublishVolume(publish("evict-kept", target("evict-kept"),
        models.get("kept").reference().toString()).build());
    for (String name : List.of("a", "b", "c")) {
      node.csi.node().nodePublishVolume(publish("evict-" + name, target("evict-" + name),
          models.get(name).reference().toString()).build());
      assertServes(target("evict-" + name), models.get(name));
      node.csi.node().nodeUnpublishVolume(unpublish("evict-" + name, target("evict-" + name)));
    }

    // kept + a + b + c = 4 MB > 3.5 MB: "a", the least recently used unreferenced entry, goes.
    await().atMost(WAIT).untilAsserted(() ->
        assertThat(storeBlob(layout, models.get("a"))).doesNotExist());
    assertThat(storeBlob(layout, models.get("kept"))).isRegularFile();
    assertThat(storeBlob(layout, models.get("b"))).isRegularFile();
    assertThat(storeBlob(layout, models.get("c"))).isRegularFile();
    assertThat(blobNames(layout)).containsExactlyInAnyOrder(
        Stream.of("kept", "b", "c").map(n -> hex(models.get(n))).toArray(String[]::new));
    assertThat(node.plugin.store().entries().stream().mapToLong(EntryInfo::size).sum()).isLessThanOrEqualTo(3_500_000);
    assertServes(target("evict-kept"), models.get("kept"));
    try (Stream<Path> ingest = Files.list(layout.ingest())) {
      assertThat(ingest).isEmpty();
    }
    node.csi.node().nodeUnpublishVolume(unpublish("evict-kept", target("evict-kept")));
  }

  @Test
  void whenTheStoreFilesystemIsFullUnreferencedEntriesMakeRoomAndTheDownloadIsRetried()
      throws Exception {
    Path small = mountTmpfs("tmpfs-full", "4m");
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("a-full-a"))
        .rawFile("a.safetensors", 2_500_000, 61).push(pusher, ref("models/full-a:v1"));
    PushedArtifact b = ModelArtifactBuilder.create(tmp.resolve("a-full-b"))
        .rawFile("b.safetensors", 2_500_000, 62).push(pusher, ref("models/full-b:v1"));
    TestNode node = startNode("root-full", "dir: " + small.resolve("store"));
    StoreLayout layout = node.plugin.store().layout();

    node.csi.node().nodePublishVolume(publish("full-a", target("full-a"),
        a.reference().toString()).build());
    node.csi.node().nodeUnpublishVolume(unpublish("full-a", target("full-a")));
    assertThat(storeBlob(layout, a)).isRegularFile(); // warm cache, within every limit

    // 2.5 MB more does not fit in 4 MB: the download fails with ENOSPC, "a" is evicted, and the
    // download is retried.
    node.csi.node().nodePublishVolume(publish("full-b", target("full-b"),
        b.reference().toString()).build());
    assertServes(target("full-b"), b);
    assertThat(storeBlob(layout, a)).doesNotExist();
    assertThat(storeBlob(layout, b)).isRegularFile();
    assertThat(node.plugin.store().stats().snapshot().evictions()).isEqualTo(1);
    try (Stream<Path> ingest = Files.list(layout.ingest())) {
      assertThat(ingest).isEmpty();
    }
    node.csi.node().nodeUnpublishVolume(unpublish("full-b", target("full-b")));
  }

  // ------------------------------------------------------------------ hostile artifacts

  @Test
  void pathTraversalThroughAnnotationsOrTarEntriesIsRefusedAndWritesNothingOutside()
      throws Exception {
    TestNode node = startNode("root-evil", "");
    Path evilRoot = tmp.resolve("evil");
    Content evil = Content.text("owned");
    String passwd = sha256(Path.of("/etc/passwd"));
    Map<String, ModelArtifactBuilder> attacks = new LinkedHashMap<>();
    attacks.put("raw-dotdot", ModelArtifactBuilder.create(evilRoot.resolve("m1"))
        .rawFile("ok.bin", 10, 1).rawLayerWithFilepath("../../../escape-raw", evil));
    attacks.put("raw-deep-dotdot", ModelArtifactBuilder.create(evilRoot.resolve("m2"))
        .rawLayerWithFilepath("sub/../../../../../../store/blobs/escape-store", evil));
    attacks.put("raw-absolute", ModelArtifactBuilder.create(evilRoot.resolve("m3"))
        .rawLayerWithFilepath(tmp.resolve("escape-abs").toString(), evil));
    attacks.put("tar-dotdot", ModelArtifactBuilder.create(evilRoot.resolve("m4"))
        .rawFile("ok.bin", 10, 1)
        .tarLayer(Compression.NONE, TarEntry.file("fine.txt", 10, 2),
            TarEntry.file("../../../escape-tar", evil)));
    attacks.put("tar-dotdot-into-store", ModelArtifactBuilder.create(evilRoot.resolve("m5"))
        .tarLayer(Compression.GZIP, TarEntry.file("fine.txt", 10, 3),
            TarEntry.file("../../blobs/escape-tar-store", evil)));
    attacks.put("tar-absolute", ModelArtifactBuilder.create(evilRoot.resolve("m6"))
        .tarLayer(Compression.GZIP, TarEntry.file(tmp.resolve("escape-tarabs").toString(), evil)));
    attacks.put("tar-symlink", ModelArtifactBuilder.create(evilRoot.resolve("m7"))
        .tarLayer(Compression.NONE, TarEntry.symlink("link", tmp.toString()),
            TarEntry.file("link/escape-symlink", evil)));
    attacks.put("tar-relative-symlink", ModelArtifactBuilder.create(evilRoot.resolve("m8"))
        .tarLayer(Compression.NONE, TarEntry.symlink("up", "../../.."),
            TarEntry.file("up/escape-relsymlink", evil)));
    attacks.put("tar-hardlink", ModelArtifactBuilder.create(evilRoot.resolve("m9"))
        .tarLayer(Compression.NONE, TarEntry.hardlink("passwd", "/etc/passwd")));

    for (var attack : attacks.entrySet()) {
      String name = attack.getKey();
      PushedArtifact a = attack.getValue().push(pusher, ref("evil/" + name + ":v1"));
      String volume = "evil-" + name;
      Path target = target(volume);
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          StatusRuntimeException.class, () -> node.csi.node().nodePublishVolume(
              publish(volume, target, a.reference().toString()).build()), name);
      assertThat(e.getStatus().getCode()).as(name).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(isMountPoint(target)).as(name).isFalse();
      assertThat(target).as(name).doesNotExist();
      assertThat(node.root.resolve("volumes").resolve(volume)).as(name).doesNotExist();
    }

    try (Stream<Path> all = Files.walk(tmp)) {
      assertThat(all.filter(p -> p.getFileName().toString().contains("escape-"))).isEmpty();
    }
    StoreLayout layout = node.plugin.store().layout();
    // The store holds only what it names: digests under blobs/ and trees/, no link leading out,
    // no leftovers, and no entry a volume still references.
    try (Stream<Path> all = Files.walk(layout.root())) {
      for (Path p : all.toList()) {
        String rel = layout.root().relativize(p).toString();
        assertThat(rel).as(rel).doesNotContain("escape", "owned", "passwd");
        if (Files.isSymbolicLink(p)) {
          assertThat(p.getParent().resolve(Files.readSymbolicLink(p)).normalize())
              .as(rel).startsWith(layout.trees());
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && rel.startsWith("blobs/")) {
          assertThat(rel).matches("blobs/sha256/[0-9a-f]{64}");
        }
      }
    }
    try (Stream<Path> ingest = Files.list(layout.ingest())) {
      assertThat(ingest).isEmpty();
    }
    assertThat(node.plugin.store().entries()).allSatisfy(i -> assertThat(i.volumes()).isEmpty());
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
    try (Stream<Path> top = Files.list(node.root)) {
      assertThat(top.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("csi.sock", "volumes", "store", "staging",
              "driver.lock");
    }
    assertThat(node.root.resolve("staging")).isEmptyDirectory();
    assertThat(sha256(Path.of("/etc/passwd"))).isEqualTo(passwd);
  }

  // ------------------------------------------------------------------ helpers

  static void assertServes(Path target, PushedArtifact artifact) throws IOException {
    for (PushedFile f : artifact.files()) {
      assertThat(sha256(target.resolve(f.path()))).as(f.path()).isEqualTo(f.sha256());
    }
  }

  /** Where each of the artifact's files lives in the store: a blob, or a file in a tree. */
  static Map<String, Path> storeFiles(StoreLayout layout, PushedArtifact artifact) {
    Map<String, Path> files = new HashMap<>();
    for (Descriptor layer : artifact.manifest().layers()) {
      LayerFormat format = ModelMediaTypes.formatOf(layer);
      if (format == LayerFormat.RAW) {
        String path = layer.annotations().entrySet().stream()
            .filter(e -> e.getKey().endsWith(".model.filepath")).findFirst().orElseThrow()
            .getValue();
        files.put(path, layout.path(new LayerKey(layer.digest(), EntryKind.BLOB)));
      } else {
        Path tree = layout.path(new LayerKey(layer.digest(), EntryKind.TREE));
        try (Stream<Path> walk = Files.walk(tree)) {
          walk.filter(Files::isRegularFile)
              .forEach(p -> files.put(tree.relativize(p).toString(), p));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    assertThat(files.keySet()).containsExactlyInAnyOrderElementsOf(
        artifact.files().stream().map(PushedFile::path).collect(Collectors.toSet()));
    return files;
  }

  static Path storeBlob(StoreLayout layout, PushedArtifact oneLayer) {
    return layout.path(new LayerKey(oneLayer.manifest().layers().get(0).digest(),
        EntryKind.BLOB));
  }

  static String hex(PushedArtifact oneLayer) {
    return oneLayer.manifest().layers().get(0).digest().substring("sha256:".length());
  }

  static List<String> blobNames(StoreLayout layout) throws IOException {
    try (Stream<Path> s = Files.list(layout.blobs().resolve("sha256"))) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  static Object inode(Path p) throws IOException {
    return List.of(Files.getAttribute(p, "unix:dev"), Files.getAttribute(p, "unix:ino"));
  }
}
