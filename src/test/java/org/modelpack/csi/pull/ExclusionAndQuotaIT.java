package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.sha256;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.testing.CsiRequests;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/**
 * Exclusion attributes and the disk quota behind the real CSI socket: a real registry, the node
 * plugin in-process, real bind mounts and a small tmpfs for running out of space. Requires root.
 */
@Timeout(120)
class ExclusionAndQuotaIT extends NodesWithRegistry {
  private static final String SVC = "model.csi.modelpack.org/";
  private static final String WEIGHTS = SVC + "exclude-model-weights";
  private static final String PATTERNS = SVC + "exclude-file-patterns";
  private static final String QUOTA = SVC + "check-disk-quota";

  /** One model for the exclusion tests: weights, an index, config, docs and a tokenizer tar. */
  static PushedArtifact model;

  @BeforeAll
  static void pushModel() throws Exception {
    model = ModelArtifactBuilder.create(tmp.resolve("a-model"))
        .rawFile("model-00001-of-00002.safetensors", 300_000, 1)
        .rawFile("model-00002-of-00002.safetensors", 200_000, 2)
        .rawFile("model.safetensors.index.json", 2_000, 3)
        .rawFile("config.json", 1_000, 4)
        .rawFile("docs/README.md", 1_500, 5)
        .rawFile("docs/guide.md", 1_200, 6)
        .tarLayer(Compression.GZIP, TarEntry.file("tokenizer/tokenizer.json", 20_000, 7))
        .push(pusher, ref("models/excl:v1"));
  }

  // ------------------------------------------------------------------ exclusions

  @Test
  void excludeModelWeightsLeavesOutSafetensorsAndTheIndexWithoutDownloadingThem()
      throws Exception {
    TestNode node = startNode("root-weights", "");
    Path target = target("weights");
    node.csi.node().nodePublishVolume(publish("weights", target, model.reference().toString())
        .putVolumeContext(WEIGHTS, "true").build());

    assertThat(filesUnder(target)).containsExactlyInAnyOrder("config.json", "docs/README.md",
        "docs/guide.md", "tokenizer/tokenizer.json");
    assertServes(target, "config.json", "docs/guide.md", "tokenizer/tokenizer.json");
    for (String weight : List.of("model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors", "model.safetensors.index.json")) {
      assertThat(registry.countBlobGets(digestOf(weight))).as(weight).isZero();
    }
    String status = Files.readString(node.root.resolve("volumes/weights/status.json"));
    assertThat(status).contains("\"exclude_model_weights\" : true");

    // The same volume id with other exclusions (or none) is other content.
    for (Map<String, String> other : List.of(Map.of(WEIGHTS, "false"),
        Map.of(WEIGHTS, "true", PATTERNS, "[\"docs/\"]"))) {
      assertThatThrownBy(() -> node.csi.node().nodePublishVolume(publish("weights",
          target("weights-2"), model.reference().toString()).putAllVolumeContext(other).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
              e.getStatus().getCode()).as(other.toString()).isEqualTo(Status.Code.ALREADY_EXISTS));
    }
    // The same exclusions: a second target of the same volume.
    node.csi.node().nodePublishVolume(publish("weights", target("weights-3"),
        model.reference().toString()).putVolumeContext(WEIGHTS, "1").build());
    assertThat(filesUnder(target("weights-3"))).hasSize(4);
    node.csi.node().nodeUnpublishVolume(unpublish("weights", target("weights-3")));
    node.csi.node().nodeUnpublishVolume(unpublish("weights", target));
  }

  @Test
  void patternsAreEvaluatedInOrderWithBangReincludingAndOverrideExcludeWeights()
      throws Exception {
    TestNode node = startNode("root-patterns", "");
    Path target = target("patterns");
    node.csi.node().nodePublishVolume(publish("patterns", target, model.reference().toString())
        .putVolumeContext(WEIGHTS, "true")
        .putVolumeContext(PATTERNS, """
            ["docs/", "!docs/README.md", "tokenizer/", "!model-00001-of-00002.safetensors"]
            """).build());

    assertThat(filesUnder(target)).containsExactlyInAnyOrder("config.json", "docs/README.md",
        "model-00001-of-00002.safetensors");
    assertServes(target, "config.json", "docs/README.md", "model-00001-of-00002.safetensors");
    node.csi.node().nodeUnpublishVolume(unpublish("patterns", target));
  }

  @Test
  void excludingEverythingMountsAnEmptyModel() throws Exception {
    TestNode node = startNode("root-empty", "");
    Path target = target("empty");
    node.csi.node().nodePublishVolume(publish("empty", target, model.reference().toString())
        .putVolumeContext(PATTERNS, "[\"*\"]").build());
    assertThat(target).isEmptyDirectory();
    assertThat(CsiRequests.isMountPoint(target)).isTrue();
    node.csi.node().nodeUnpublishVolume(unpublish("empty", target));
  }

  @Test
  void invalidAttributeValuesAreInvalidArgumentsNamingTheKey() throws Exception {
    TestNode node = startNode("root-invalid", "");
    Map<String, String> cases = Map.of(
        WEIGHTS, "maybe",
        PATTERNS, "*.bin",
        PATTERNS + " ", "[\"a\", 3]",
        QUOTA, "2");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      String key = c.getKey().trim();
      assertThatThrownBy(() -> node.csi.node().nodePublishVolume(publish("invalid",
          target("invalid"), model.reference().toString()).putVolumeContext(key, c.getValue())
          .build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(c.toString())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).as(c.toString()).contains(key);
          });
    }
    assertThat(node.root.resolve("volumes")).isEmptyDirectory();
  }

  // ------------------------------------------------------------------ quota

  @Test
  void aQuotaRefusalComesBeforeAnyDownloadWhileLayersInTheStoreCostNothing()
      throws Exception {
    PushedArtifact big = ModelArtifactBuilder.create(tmp.resolve("a-quota-big"))
        .rawFile("big.safetensors", 3_000_000, 21).push(pusher, ref("models/quota-big:v1"));
    PushedArtifact more = ModelArtifactBuilder.create(tmp.resolve("a-quota-more"))
        .rawFile("more.safetensors", 1_500_000, 22).push(pusher, ref("models/quota-more:v1"));
    TestNode node = startNode("root-quota", "",
        "features:\n  check_disk_quota: true\n  disk_usage_limit: 4MB");

    // 3 MB of the 4 MB limit, kept published (so it cannot be evicted).
    node.csi.node().nodePublishVolume(publish("quota-big", target("quota-big"),
        big.reference().toString()).putVolumeContext(QUOTA, "true").build());

    // 1.5 MB more does not fit the 1 MB left: refused before any download.
    assertThatThrownBy(() -> node.csi.node().nodePublishVolume(publish("quota-more",
        target("quota-more"), more.reference().toString()).putVolumeContext(QUOTA, "true")
        .build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription()).contains("needs 1.4 MiB but only",
              "of disk quota is available");
        });
    assertThat(registry.countBlobGets(more.manifest().layers().get(0).digest())).isZero();
    assertThat(node.root.resolve("volumes/quota-more")).doesNotExist();

    // The 3 MB model again for a second volume: it needs nothing new, so it passes a quota
    // it would otherwise exceed.
    node.csi.node().nodePublishVolume(publish("quota-big-2", target("quota-big-2"),
        big.reference().toString()).putVolumeContext(QUOTA, "true").build());
    assertThat(sha256(target("quota-big-2").resolve("big.safetensors")))
        .isEqualTo(big.file("big.safetensors").sha256());
    assertThat(registry.countBlobGets(big.manifest().layers().get(0).digest())).isEqualTo(1);
    node.csi.node().nodeUnpublishVolume(unpublish("quota-big-2", target("quota-big-2")));
    node.csi.node().nodeUnpublishVolume(unpublish("quota-big", target("quota-big")));
  }

  @Test
  void runningOutOfSpaceMidPullIsResourceExhaustedLeavesNothingAndSparesOtherVolumes()
      throws Exception {
    Path small = mountTmpfs("tmpfs-enospc", "4m");
    PushedArtifact kept = ModelArtifactBuilder.create(tmp.resolve("a-enospc-kept"))
        .rawFile("kept.safetensors", 2_500_000, 31).push(pusher, ref("models/enospc-kept:v1"));
    PushedArtifact tooBig = ModelArtifactBuilder.create(tmp.resolve("a-enospc-big"))
        .rawFile("config.json", 10_000, 32)
        .rawFile("too-big.safetensors", 2_500_000, 33).push(pusher, ref("models/enospc-big:v1"));
    TestNode node = startNode("root-enospc", "dir: " + small.resolve("store"));
    Path ingest = node.plugin.store().layout().ingest();

    node.csi.node().nodePublishVolume(publish("enospc-kept", target("enospc-kept"),
        kept.reference().toString()).build());

    // No quota check asked for: the download runs into ENOSPC; the only other entry is in use.
    assertThatThrownBy(() -> node.csi.node().nodePublishVolume(publish("enospc-big",
        target("enospc-big"), tooBig.reference().toString()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription()).contains("no space left on device");
        });
    // The layer that hit ENOSPC removed its partial file before failing; a sibling layer's
    // download is cancelled when the pull fails and removes its own on the store's thread.
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      try (Stream<Path> partial = Files.list(ingest)) {
        assertThat(partial).isEmpty();
      }
    });
    assertThat(node.root.resolve("volumes/enospc-big")).doesNotExist();
    assertThat(target("enospc-big")).doesNotExist();
    assertThat(sha256(target("enospc-kept").resolve("kept.safetensors")))
        .isEqualTo(kept.file("kept.safetensors").sha256());
    assertThat(node.plugin.store().entries()).anySatisfy(e -> assertThat(e.volumes())
        .containsExactly("enospc-kept"));
    node.csi.node().nodeUnpublishVolume(unpublish("enospc-kept", target("enospc-kept")));
  }

  // ------------------------------------------------------------------ helpers

  static String digestOf(String path) {
    return model.manifest().layers().stream()
        .filter(l -> path.equals(l.annotations().get("org.cncf.model.filepath")))
        .map(Descriptor::digest).findFirst().orElseThrow();
  }

  static List<String> filesUnder(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).toList();
    }
  }

  static void assertServes(Path target, String... paths) throws IOException {
    for (String path : paths) {
      PushedFile f = model.file(path);
      assertThat(sha256(target.resolve(path))).as(path).isEqualTo(f.sha256());
    }
  }
}
