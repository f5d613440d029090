package org.modelpack.csi.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;
import static org.modelpack.csi.testing.HostileArtifacts.compressibleTo;
import static org.modelpack.csi.testing.HostileArtifacts.gzip;
import static org.modelpack.csi.testing.HostileArtifacts.tar;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.modelpack.csi.security.HostileCase.Ctx;
import org.modelpack.csi.security.HostileCase.Pushed;
import org.modelpack.csi.store.EntryInfo;
import org.modelpack.csi.store.EntryKind;
import org.modelpack.csi.store.StoreLayout;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.Commands;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/**
 * The hostile-artifact corpus (issue 8): artifacts built by the tests, pushed to one real
 * registry and published through one node's CSI socket, whose store is on a 64 MiB tmpfs.
 * Every hostile case must answer its gRPC code with a bounded message naming the problem,
 * and leave nothing: no volume directory, no file under the store's ingest/, no mount, the
 * sentinel directory the attacks aim at untouched, no file named like an attack anywhere, and
 * a store holding only verified entries. Benign artifacts with odd but legal names must still
 * be served. Requires root.
 */
@Timeout(300)
class HostileArtifactIT extends NodesWithRegistry {
  private static final int MAX_DESCRIPTION = 1024;

  static Path nodeFs;
  static TestNode node;
  static Path sentinel;
  static Map<String, String> sentinelBefore;
  /** Tar layers the store may hold: fine on their own, whatever the case they came with. */
  static final Set<String> storableTrees = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void startSharedNode() throws Exception {
    nodeFs = Files.createDirectories(tmp.resolve("node-fs"));
    Commands.run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", nodeFs.toString());
    // Few, fast retries: no case here is helped by waiting for a registry.
    node = TestNode.start(nodeFs.resolve("root"), tmp, """
        pull_config:
          docker_config_dir: %s
          retry_attempts: 2
          retry_initial_backoff: 10ms
          retry_max_backoff: 10ms
        cache:
          high_watermark: 100
          low_watermark: 100
        """.formatted(tmp.resolve("no-docker-config")));
    sentinel = Files.createDirectories(tmp.resolve("sentinel/inner"));
    Files.writeString(tmp.resolve("sentinel/secret"), "do not touch");
    Files.writeString(sentinel.resolve("file"), "nor this");
    sentinel = tmp.resolve("sentinel");
    sentinelBefore = snapshot(sentinel);
  }

  @AfterAll
  static void stopSharedNode() throws Exception {
    CsiRequests.unmountAllUnder(tmp.resolve("pods"));
    Closeables.closeAll(node);
    Commands.run("umount", "--lazy", nodeFs.toString());
  }

  static List<HostileCase> hostileCases() {
    List<HostileCase> all = new ArrayList<>();
    all.addAll(PathAndLinkCases.all());
    all.addAll(ContentCases.all());
    all.addAll(ManifestCases.all());
    return all;
  }

  @Test
  void theCorpusHasAtLeastFortyUniquelyNamedCasesInEveryCategory() {
    List<HostileCase> all = hostileCases();
    assertThat(all).hasSizeGreaterThanOrEqualTo(40);
    assertThat(all.stream().map(HostileCase::name)).doesNotHaveDuplicates();
    assertThat(all.stream().map(HostileCase::category).distinct()).containsExactlyInAnyOrder(
        "annotations", "tar names", "links", "special files", "sizes and digests", "bombs",
        "malformed archives", "manifests and indexes", "media types");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileCases")
  void aHostileArtifactIsRefusedWithItsCodeAndLeavesNothingBehind(HostileCase c)
      throws Exception {
    Ctx ctx = new Ctx(c.name(), tmp.resolve("artifacts"), pusher, registry, sentinel,
        node.plugin.store().diskSpace().total());
    String volume = "hc-" + c.name();
    Path target = target(volume);
    try {
      Pushed pushed = c.artifact().build(ctx);
      storableTrees.addAll(c.storable().apply(pushed));
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> node.csi.node().nodePublishVolume(publish(volume, target, pushed.reference())
              .build()), "publish of " + c);
      String description = e.getStatus().getDescription();
      assertThat(e.getStatus().getCode()).as("code; description: %s", description)
          .isEqualTo(c.code());
      assertThat(description).hasSizeLessThanOrEqualTo(MAX_DESCRIPTION)
          .contains(c.mentions().apply(pushed));
      c.also().verify(ctx, pushed);
    } finally {
      Closeables.closeReversed(ctx.toClose);
    }
    assertNothingLeft(volume, target);
  }

  static List<BenignCase> benignCases() {
    return BenignCases.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("benignCases")
  void aBenignArtifactWithOddButLegalNamesIsServedAndUnpublishedCleanly(BenignCase c)
      throws Exception {
    Ctx ctx = new Ctx(c.name(), tmp.resolve("artifacts"), pusher, registry, sentinel,
        node.plugin.store().diskSpace().total());
    BenignCase.Served artifact = c.artifact().build(ctx);
    storableTrees.addAll(artifact.tarLayers());
    String volume = "bc-" + c.name();
    Path target = target(volume);
    node.csi.node().nodePublishVolume(publish(volume, target, artifact.reference()).build());

    assertThat(isMountPoint(target)).isTrue();
    for (Map.Entry<String, String> f : artifact.files().entrySet()) {
      assertThat(sha256(target.resolve(f.getKey()))).as(f.getKey()).isEqualTo(f.getValue());
    }
    c.also().verify(target);
    node.csi.node().nodeUnpublishVolume(unpublish(volume, target));
    assertNothingLeft(volume, target);
  }

  @Test
  void aTarLayerBeyondTheDiskUsageLimitIsResourceExhaustedNamingTheLimitEvenUnchecked()
      throws Exception {
    TestNode limited = startNode("limited", "", "features:\n  disk_usage_limit: 8MiB");
    Ctx ctx = new Ctx("over-the-disk-usage-limit", tmp.resolve("artifacts"), pusher, registry,
        sentinel, 0);
    Pushed pushed = ctx.push(ctx.builder().blobLayer(ContentCases.TGZ, Map.of(),
        gzip(tar(t -> {
          for (int i = 0; i < 3; i++) {
            t.header("shard-" + i + ".bin", (byte) '0', 4L << 20)
                .data(4L << 20, compressibleTo(4L << 20, 20, i));
          }
          t.end();
        }))));
    Path target = target("over-limit");
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> limited.csi.node().nodePublishVolume(publish("over-limit", target,
            pushed.reference()).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.getStatus().getDescription()).contains(pushed.layer(0),
        "'shard-1.bin' declares 4.0 MiB", "features.disk_usage_limit 8.0 MiB");
    assertThat(limited.root.resolve("volumes/over-limit")).doesNotExist();
    assertThat(isMountPoint(target)).isFalse();
    assertIngestEmpty(limited.plugin.store().layout());
    assertThat(limited.plugin.store().entries()).isEmpty();
  }

  // ------------------------------------------------------------------ invariants

  private static void assertNothingLeft(String volume, Path target) throws Exception {
    assertThat(node.root.resolve("volumes").resolve(volume)).as("volume directory")
        .doesNotExist();
    assertThat(isMountPoint(target)).as("target mounted").isFalse();
    assertThat(target).as("target").doesNotExist();
    assertThat(mountPointsUnder(tmp)).as("mounts under the test directory")
        .containsExactly(nodeFs.toRealPath().toString());
    assertIngestEmpty(node.plugin.store().layout());
    assertThat(snapshot(sentinel)).as("sentinel directory").isEqualTo(sentinelBefore);
    try (Stream<Path> all = Files.walk(tmp)) {
      assertThat(all.filter(p -> p.getFileName().toString().contains(PathAndLinkCases.PWNED)))
          .as("files an attack would create").isEmpty();
    }
    assertStoreHoldsOnlyVerifiedEntries(volume);
  }

  /** Downloads cancelled with a failed pull remove their files on the store's threads. */
  private static void assertIngestEmpty(StoreLayout layout) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      if (Files.isDirectory(layout.ingest())) {
        try (Stream<Path> left = Files.list(layout.ingest())) {
          assertThat(left).as("store ingest/").isEmpty();
        }
      }
    });
  }

  /**
   * The store's index and its directories agree, every blob hashes to its digest, every tree
   * comes from a tar layer that is fine on its own, and the volume references nothing.
   */
  private static void assertStoreHoldsOnlyVerifiedEntries(String volume) throws IOException {
    StoreLayout layout = node.plugin.store().layout();
    Set<String> indexed = new HashSet<>();
    for (EntryInfo e : node.plugin.store().entries()) {
      String digest = e.key().digest();
      indexed.add(e.key().kind() + " " + digest);
      assertThat(e.volumes()).as(e.key().toString()).doesNotContain(volume);
      if (e.key().kind() == EntryKind.BLOB) {
        assertThat("sha256:" + sha256(layout.path(e.key()))).as(e.key().toString())
            .isEqualTo(digest);
      } else {
        assertThat(storableTrees).as("tree %s", digest).contains(digest);
      }
    }
    Set<String> onDisk = new HashSet<>();
    onDisk.addAll(listed(layout.blobs().resolve("sha256"), EntryKind.BLOB));
    onDisk.addAll(listed(layout.trees().resolve("sha256"), EntryKind.TREE));
    assertThat(onDisk).as("store directories").isEqualTo(indexed);
  }

  private static Set<String> listed(Path dir, EntryKind kind) throws IOException {
    if (!Files.isDirectory(dir)) {
      return Set.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".json"))
          .map(n -> kind + " sha256:" + n).collect(java.util.stream.Collectors.toSet());
    }
  }

  private static List<String> mountPointsUnder(Path dir) throws IOException {
    String prefix = dir.toRealPath().toString();
    List<String> mounts = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f[4].equals(prefix) || f[4].startsWith(prefix + "/")) {
        mounts.add(f[4].replace("\\040", " "));
      }
    }
    return mounts;
  }

  /** Every path below {@code dir} with its type, size, mode, mtime and content hash. */
  private static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> state = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS);
        state.put(dir.relativize(p).toString(), a.isDirectory() + " " + a.size() + " "
            + a.permissions() + " " + a.lastModifiedTime() + " "
            + (a.isRegularFile() ? sha256(p) : ""));
      }
    }
    return state;
  }
}
