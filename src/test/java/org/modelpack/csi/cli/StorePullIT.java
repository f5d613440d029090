package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.modelpack.csi.testing.CsiRequests.isMountPoint;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modelpack.csi.admin.v1.ListEntriesRequest;
import org.modelpack.csi.admin.v1.ListEntriesResponse;
import org.modelpack.csi.admin.v1.PullProgress;
import org.modelpack.csi.admin.v1.PullRequest;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.store.StoreStats;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/**
 * Node prefetch ({@code store pull}) against a node plugin in this JVM and a real registry:
 * the CLI and the StoreAdmin Pull RPC on the driver's socket (docs/decisions/1141).
 */
@Timeout(120)
class StorePullIT extends NodesWithRegistry {
  private TestNode node(String name) throws Exception {
    return closeAfterTest(TestNode.start(tmp.resolve(name), tmp, """
        pull_config:
          docker_config_dir: %s
          publish_wait_seconds: 30
          stall_timeout: 3s
          retry_initial_backoff: 100ms
        cache:
          high_watermark: 100
          low_watermark: 100
        """.formatted(tmp.resolve("no-docker-config"))));
  }

  private static String endpoint(TestNode node) {
    return "unix://" + node.plugin.config().csiEndpoint();
  }

  /** A model of three layers whose bytes no other test's model shares (seeded by name). */
  private static PushedArtifact model(String name) throws Exception {
    long seed = name.hashCode() * 10L;
    return ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", 200_000, seed + 1)
        .rawFile("config.json", 300, seed + 2)
        .tarLayer(Compression.GZIP, TarEntry.file("tokenizer/tokenizer.json", 20_000, seed + 3))
        .push(pusher, ref("models/" + name + ":v1"));
  }

  /** A 3 MiB model reached through a proxy that stalls it after 1 MiB for the stall timeout. */
  private PushedArtifact slowModel(String name, FaultProxy[] proxyOut) throws Exception {
    PushedArtifact a = ModelArtifactBuilder.create(tmp.resolve("a-" + name))
        .rawFile("model.safetensors", 3 << 20, name.hashCode() * 10L + 4)
        .push(pusher, ref("models/" + name + ":v1"));
    FaultProxy proxy = closeAfterTest(FaultProxy.start(registry.host()));
    proxy.inject(FaultProxy.on("sha256:" + a.file("model.safetensors").sha256())
        .stallAfter(1 << 20));
    proxyOut[0] = proxy;
    return a;
  }

  private static List<String> digests(PushedArtifact a) {
    return a.manifest().layers().stream().map(Descriptor::digest).toList();
  }

  private static ListEntriesResponse entries(TestNode node) {
    return node.csi.storeAdmin().listEntries(ListEntriesRequest.getDefaultInstance());
  }

  /** Entries below {@code dir}; 0 when it does not exist. */
  private static long filesUnder(Path dir) throws Exception {
    if (!Files.exists(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> !p.equals(dir)).count();
    }
  }

  @Test
  void storePullWarmsTheNodeSoALaterPublishDownloadsNothingAndMountsWarm() throws Exception {
    TestNode node = node("warm");
    PushedArtifact a = model("warm");
    String reference = a.reference().toString();

    CliRun pull = CliRun.of("store", "pull", "--endpoint", endpoint(node), reference);

    assertThat(pull.exitCode()).as("%s", pull).isZero();
    assertThat(pull.out().lines().toList())
        .anyMatch(l -> l.startsWith(reference + ": pulled "))
        .last().asString().startsWith("prefetched " + reference + " (" + a.manifestDigest()
            + ", 3 layers, 0 already on the node) in ");
    for (String digest : digests(a)) {
      assertThat(registry.countBlobGets(digest)).as(digest).isEqualTo(1);
    }
    // Unreferenced warm cache: no volume holds the entries, and the prefetch left no directory.
    ListEntriesResponse listed = entries(node);
    assertThat(listed.getEntriesList()).hasSize(3)
        .allSatisfy(e -> assertThat(e.getVolumesList()).isEmpty());
    assertThat(filesUnder(node.root.resolve("prefetch"))).isZero();
    CliRun list = CliRun.of("store", "list", "--endpoint", endpoint(node));
    assertThat(list.out().lines().filter(l -> l.startsWith("sha256:")).toList()).hasSize(3)
        .allSatisfy(l -> assertThat(l).endsWith(" -"));

    StoreStats.Snapshot before = node.plugin.store().stats().snapshot();
    Path target = target("csi-after-prefetch");
    node.csi.node().nodePublishVolume(publish("csi-after-prefetch", target, reference).build());

    assertThat(isMountPoint(target)).isTrue();
    assertThat(target.resolve("tokenizer/tokenizer.json")).exists();
    for (String digest : digests(a)) {
      assertThat(registry.countBlobGets(digest)).as(digest).isEqualTo(1);
    }
    StoreStats.Snapshot after = node.plugin.store().stats().snapshot();
    assertThat(after.misses()).isEqualTo(before.misses());
    assertThat(after.hits() - before.hits()).isEqualTo(3);
    node.csi.node().nodeUnpublishVolume(unpublish("csi-after-prefetch", target));
  }

  @Test
  void prefetchedEntriesAreEvictableLikeAnyUnreferencedEntry() throws Exception {
    TestNode node = node("evict");
    PushedArtifact a = model("evict");
    assertThat(CliRun.of("store", "pull", "--endpoint", endpoint(node),
        a.reference().toString()).exitCode()).isZero();

    CliRun evict = CliRun.of("store", "evict", "--endpoint", endpoint(node),
        "--all-unreferenced");

    assertThat(evict.exitCode()).as("%s", evict).isZero();
    assertThat(evict.out()).contains("evicted 3 entries");
    assertThat(entries(node).getEntriesList()).isEmpty();
  }

  @Test
  void aPullLongerThanOneCallGoesOnInTheDriverAndTheNextCallJoinsIt() throws Exception {
    TestNode node = node("join");
    FaultProxy[] proxy = new FaultProxy[1];
    PushedArtifact a = slowModel("join", proxy);
    String reference = proxy[0].host() + "/models/join:v1";
    PullRequest request = PullRequest.newBuilder().setReference(reference).build();

    // The first call gives up after 1 s, during the 3 s stall.
    Iterator<PullProgress> first = node.csi.storeAdmin()
        .withDeadline(Deadline.after(1, TimeUnit.SECONDS)).pull(request);
    assertThat(first.next().getJoined()).isFalse();
    assertThatThrownBy(() -> first.forEachRemaining(p -> { }))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
            e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));

    List<PullProgress> second = new ArrayList<>();
    node.csi.storeAdmin().pull(request).forEachRemaining(second::add);

    assertThat(second.get(0).getJoined()).as("the second call joined the running pull").isTrue();
    assertThat(second.get(second.size() - 1).getDone()).isTrue();
    assertThat(second.get(second.size() - 1).getManifestDigest()).isEqualTo(a.manifestDigest());
    assertThat(node.plugin.store().stats().snapshot().misses()).isEqualTo(1);
    assertThat(entries(node).getEntriesList()).singleElement()
        .satisfies(e -> assertThat(e.getVolumesList()).isEmpty());
  }

  @Test
  void theCliRidesOutCallDeadlinesShowingProgressUntilThePullEnds() throws Exception {
    TestNode node = node("cli-join");
    FaultProxy[] proxy = new FaultProxy[1];
    slowModel("cli-join", proxy);
    String reference = proxy[0].host() + "/models/cli-join:v1";

    CliRun pull = CliRun.of("store", "pull", "--endpoint", endpoint(node), "--call-timeout",
        "1", reference);

    assertThat(pull.exitCode()).as("%s", pull).isZero();
    assertThat(pull.out().lines().toList())
        .anyMatch(l -> l.matches(java.util.regex.Pattern.quote(reference)
            + ": pulling [0-9.]+ (B|KiB|MiB) of 3\\.0 MiB \\(\\d{1,3}%\\)"))
        .contains(reference + ": pulled 3.0 MiB");
    assertThat(node.plugin.store().stats().snapshot().misses()).isEqualTo(1);
  }

  @Test
  void aPrefetchAndAPublishOfTheSameModelAtOnceDownloadEachLayerOnce() throws Exception {
    TestNode node = node("both");
    FaultProxy[] proxy = new FaultProxy[1];
    slowModel("both", proxy);
    String reference = proxy[0].host() + "/models/both:v1";
    Iterator<PullProgress> prefetch = node.csi.storeAdmin()
        .pull(PullRequest.newBuilder().setReference(reference).build());
    assertThat(prefetch.next().getJoined()).isFalse();

    Path target = target("csi-both");
    CompletableFuture<Void> published = CompletableFuture.runAsync(() -> node.csi.node()
        .nodePublishVolume(publish("csi-both", target, reference).build()));
    prefetch.forEachRemaining(p -> { });
    published.get(60, TimeUnit.SECONDS);

    assertThat(isMountPoint(target)).isTrue();
    StoreStats.Snapshot s = node.plugin.store().stats().snapshot();
    assertThat(s.misses()).as("one download for the node").isEqualTo(1);
    assertThat(s.joins() + s.hits()).isEqualTo(1);
    assertThat(entries(node).getEntriesList()).singleElement()
        .satisfies(e -> assertThat(e.getVolumesList()).containsExactly("csi-both"));
    node.csi.node().nodeUnpublishVolume(unpublish("csi-both", target));
  }

  @Test
  void aBadOrUnknownReferenceIsOneClearLineAndLeavesNothingBehind() throws Exception {
    TestNode node = node("bad");

    CliRun.of("store", "pull", "--endpoint", endpoint(node), "not a reference!")
        .failedWithOneLine(1, "store pull", "INVALID_ARGUMENT: ",
            "model reference 'not a reference!' is invalid");
    CliRun.of("store", "pull", "--endpoint", endpoint(node),
        registry.host() + "/models/absent:v1")
        .failedWithOneLine(1, "store pull", "NOT_FOUND: ", "models/absent:v1");
    CliRun.of("store", "pull", "--endpoint", endpoint(node), "--exclude-file-pattern", "docs\\",
        registry.host() + "/models/absent:v1")
        .failedWithOneLine(1, "store pull", "INVALID_ARGUMENT: ", "exclude_file_patterns",
            "unescaped backslash");

    assertThat(entries(node).getEntriesList()).isEmpty();
    assertThat(filesUnder(node.root.resolve("prefetch"))).isZero();
  }
}
