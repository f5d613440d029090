package org.modelpack.csi.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.modelpack.csi.testing.CsiRequests.publish;
import static org.modelpack.csi.testing.CsiRequests.unpublish;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.Scrape;
import org.modelpack.csi.testing.TestNode;

/**
 * A node with {@code metrics_addr} set, scraped over HTTP after a cold and a warm publish of the
 * same model: the Go driver's metric names are there and the store's counters moved by exactly
 * the model's layers and bytes. Requires root (real bind mounts).
 */
class MetricsScrapeIT extends NodesWithRegistry {
  private static final String PUBLISH = "model_csi_node_op_succeed{op=\"publish_dynamic_volume\"}";
  private static final String PULL = "model_csi_node_op_succeed{op=\"pull_image\"}";

  @Test
  void coldThenWarmPublishMovesTheGoDriverAndStoreMetrics() throws Exception {
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("artifact"))
        .rawFile("model.safetensors", 400_000, 1).rawFile("config.json", 300, 2)
        .tarLayer(Compression.GZIP, TarEntry.file("tokenizer/vocab.txt", 20_000, 3))
        .push(pusher, ref("models/metrics:v1"));
    List<Descriptor> layers = model.manifest().layers();
    long modelBytes = layers.stream().mapToLong(Descriptor::size).sum();
    int port = Scrape.freePort();
    TestNode node = startNode("root", "", "metrics_addr: tcp://127.0.0.1:" + port);
    URI metrics = URI.create("http://127.0.0.1:" + port + "/metrics");

    Scrape before = Scrape.of(metrics);
    assertThat(before.value("model_csi_node_cache_size_in_bytes")).hasValue(0);
    assertThat(before.value("model_csi_node_mounted_inline_models")).hasValue(0);
    assertThat(before.value("model_csi_node_mounted_pvc_models")).hasValue(0);
    assertThat(before.value("model_csi_node_mounted_dynamic_models")).hasValue(0);
    assertThat(before.value("model_csi_node_not_ready")).hasValue(0);
    assertThat(before.value("model_csi_store_layer_misses_total")).hasValue(0);
    assertThat(before.value("model_csi_events_dropped_total")).as("no API server, no events")
        .hasValue(0);
    assertThat(before.hasFamily("jvm_memory_used_bytes")).isTrue();
    assertThat(before.value("model_csi_store_budget_bytes")).as("no cache.max_size, no budget")
        .isEmpty();

    node.csi.node().nodePublishVolume(publish("cold", target("cold"),
        model.reference().toString()).build());
    Scrape cold = Scrape.of(metrics);
    // The Go driver's exact names: untyped, so client_java adds no _total.
    assertThat(cold.hasFamily("model_csi_node_op_succeed")).isTrue();
    assertThat(cold.hasFamily("model_csi_node_op_latency_in_seconds")).isTrue();
    assertThat(cold.valueOr0(PUBLISH)).isEqualTo(1);
    assertThat(cold.valueOr0(PULL)).isEqualTo(1);
    assertThat(cold.valueOr0("model_csi_node_op_latency_in_seconds_count"
        + "{op=\"publish_dynamic_volume\"}")).isEqualTo(1);
    assertThat(cold.value("model_csi_store_layer_misses_total")).hasValue(layers.size());
    assertThat(cold.value("model_csi_store_layer_hits_total")).hasValue(0);
    assertThat(cold.value("model_csi_store_downloaded_bytes_total")).hasValue(modelBytes);
    assertThat(cold.value("model_csi_store_entries")).hasValue(layers.size());
    assertThat(cold.valueOr0("model_csi_store_size_bytes")).isPositive();
    assertThat(cold.valueOr0("model_csi_node_cache_size_in_bytes")).isPositive();
    assertThat(cold.value("model_csi_node_mounted_inline_models")).hasValue(1);
    assertThat(cold.value("model_csi_node_pulls_in_flight")).hasValue(0);
    // Every layer is under 1 MiB: one download each, all in the first size bucket.
    assertThat(cold.valueOr0("model_csi_node_op_succeed{op=\"pull_layer\"}"))
        .isEqualTo(layers.size());
    assertThat(cold.valueOr0("model_csi_node_pull_op_latency_in_seconds_count"
        + "{op=\"pull_layer\",size_in_mb=\"1.0 MiB\"}")).isEqualTo(layers.size());

    node.csi.node().nodePublishVolume(publish("warm", target("warm"),
        model.reference().toString()).build());
    Scrape warm = Scrape.of(metrics);
    assertThat(warm.valueOr0(PUBLISH)).isEqualTo(2);
    assertThat(warm.value("model_csi_store_layer_hits_total")).hasValue(layers.size());
    assertThat(warm.value("model_csi_store_layer_misses_total")).hasValue(layers.size());
    assertThat(warm.value("model_csi_store_downloaded_bytes_total")).hasValue(modelBytes);
    // A hit saves what its entry holds: the tar layer counts unpacked, not as gzip.
    assertThat(warm.value("model_csi_store_dedup_saved_bytes_total"))
        .hasValue(cold.valueOr0("model_csi_store_size_bytes"));
    assertThat(warm.value("model_csi_node_mounted_inline_models")).hasValue(2);
    assertThat(warm.valueOr0("model_csi_node_op_succeed{op=\"pull_layer\"}"))
        .as("a warm publish downloads no layer").isEqualTo(layers.size());

    node.csi.node().nodeUnpublishVolume(unpublish("cold", target("cold")));
    Scrape after = Scrape.of(metrics);
    assertThat(after.valueOr0("model_csi_node_op_succeed{op=\"unpublish_dynamic_volume\"}"))
        .isEqualTo(1);
    assertThat(after.value("model_csi_node_mounted_inline_models")).hasValue(1);
  }

  /**
   * A registry behind a fault proxy that answers one layer 503, one 429, resets the connection of
   * one before answering, closes one's body early and stalls one's: each is one retry of its
   * cause, and the two breaks with bytes kept are resumes; the budget is the config's.
   */
  @Test
  void registryFaultsAreCountedAsRetriesAndResumesByCause() throws Exception {
    // One fault a layer: the proxy fires every rule matching a request at once.
    PushedArtifact model = ModelArtifactBuilder.create(tmp.resolve("artifact-faults"))
        .rawFile("unavailable.bin", 100_000, 21).rawFile("throttled.bin", 100_000, 22)
        .rawFile("reset.bin", 100_000, 23).rawFile("closed-early.bin", 2 << 20, 24)
        .rawFile("stalled.bin", 2 << 20, 25)
        .push(pusher, ref("models/faults:v1"));
    FaultProxy proxy = closeAfterTest(FaultProxy.start(registry.host()));
    proxy.inject(FaultProxy.on(digestOf(model, "unavailable.bin")).status(503))
        .inject(FaultProxy.on(digestOf(model, "throttled.bin")).tooManyRequests("0"))
        // Twice: the JDK's HttpURLConnection repeats a GET the server reset once by itself.
        .inject(FaultProxy.on(digestOf(model, "reset.bin")).times(2).resetBeforeAnswer())
        .inject(FaultProxy.on(digestOf(model, "closed-early.bin")).truncateAfter(1 << 20))
        .inject(FaultProxy.on(digestOf(model, "stalled.bin")).stallAfter(512 << 10));
    int port = Scrape.freePort();
    TestNode node = closeAfterTest(TestNode.start(tmp.resolve("root-faults"), tmp, """
        metrics_addr: tcp://127.0.0.1:%d
        pull_config:
          docker_config_dir: %s
          stall_timeout: 1s
          retry_initial_backoff: 10ms
        cache:
          max_size: 1GiB
          high_watermark: 100
          low_watermark: 100
        """.formatted(port, tmp.resolve("no-docker-config"))));
    URI metrics = URI.create("http://127.0.0.1:" + port + "/metrics");
    Scrape before = Scrape.of(metrics);
    for (String cause : CAUSES) {
      assertThat(before.value(RETRIES.formatted(cause))).as(cause).hasValue(0);
      assertThat(before.value(RESUMES.formatted(cause))).as(cause).hasValue(0);
    }
    assertThat(before.value("model_csi_store_budget_bytes")).hasValue(1L << 30);

    node.csi.node().nodePublishVolume(publish("faults", target("faults"),
        proxy.host() + "/models/faults:v1").build());

    Scrape after = Scrape.of(metrics);
    Map<String, Integer> retries = Map.of("http_5xx", 1, "http_429", 1, "reset", 1,
        "closed_early", 1, "stall", 1);
    Map<String, Integer> resumes = Map.of("closed_early", 1, "stall", 1);
    for (String cause : CAUSES) {
      assertThat(after.value(RETRIES.formatted(cause))).as("retries " + cause)
          .hasValue(retries.getOrDefault(cause, 0));
      assertThat(after.value(RESUMES.formatted(cause))).as("resumes " + cause)
          .hasValue(resumes.getOrDefault(cause, 0));
    }
    node.csi.node().nodeUnpublishVolume(unpublish("faults", target("faults")));
  }

  private static String digestOf(PushedArtifact model, String file) {
    return "sha256:" + model.file(file).sha256();
  }

  private static final String RETRIES = "model_csi_registry_retries_total{cause=\"%s\"}";
  private static final String RESUMES = "model_csi_registry_resumes_total{cause=\"%s\"}";
  private static final List<String> CAUSES = List.of("http_5xx", "http_429", "connect",
      "timeout", "reset", "stall", "closed_early", "bad_range", "restart");

  @Test
  void failedPublishIsCountedAsFailedNotSucceeded() throws Exception {
    int port = Scrape.freePort();
    TestNode node = startNode("root-failed", "", "metrics_addr: tcp://127.0.0.1:" + port);
    URI metrics = URI.create("http://127.0.0.1:" + port + "/metrics");

    assertThat(org.modelpack.csi.testing.CsiRequests.statusOf(() -> node.csi.node()
        .nodePublishVolume(publish("missing", target("missing"),
            ref("models/not-there:v1").toString()).build())).isOk()).isFalse();

    Scrape scrape = Scrape.of(metrics);
    assertThat(scrape.valueOr0(
        "model_csi_node_op_failed{op=\"publish_dynamic_volume\"}")).isEqualTo(1);
    assertThat(scrape.valueOr0(PUBLISH)).isZero();
  }

  @Test
  void healthzAnswersOkAndUnknownPathsAre404() throws Exception {
    int port = Scrape.freePort();
    startNode("root-health", "", "metrics_addr: tcp://127.0.0.1:" + port);

    var healthz = Scrape.get(URI.create("http://127.0.0.1:" + port + "/healthz"));
    assertThat(healthz.statusCode()).isEqualTo(200);
    assertThat(healthz.body()).isEqualTo("ok");
    assertThat(Scrape.get(URI.create("http://127.0.0.1:" + port + "/nothing")).statusCode())
        .isEqualTo(404);
  }

  @Test
  void withPodIpSetTheSamePortIsAlsoServedOnLoopback() throws Exception {
    int port = Scrape.freePort();
    // 127.0.0.2 stands for the pod's IP: on Linux all of 127/8 is this machine.
    Path root = tmp.resolve("root-pod-ip");
    NodePlugin plugin = closeAfterTest(NodePlugin.start(new ConfigLoader(
        Map.of("POD_IP", "127.0.0.2"), () -> "test-node", tmp).parse("""
            root_dir: %s
            csi_endpoint: unix://%s/csi.sock
            metrics_addr: tcp://$POD_IP:%d
            """.formatted(root, root, port))));

    assertThat(plugin.config().metricsAddr().listeners()).hasSize(2);
    for (String host : List.of("127.0.0.2", "127.0.0.1")) {
      assertThat(Scrape.of(URI.create("http://" + host + ":" + port + "/metrics"))
          .value("model_csi_node_not_ready")).as(host).hasValue(0);
    }
  }

  @Test
  void portInUseStopsTheStartAndReleasesTheRootDir() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(() -> startNode("root-taken", "",
          "metrics_addr: tcp://127.0.0.1:" + taken.getLocalPort()))
          .isInstanceOf(IOException.class).hasMessageContaining("metrics_addr");
    }

    // Nothing of the failed start holds on: the same root_dir starts with a free port.
    int port = Scrape.freePort();
    startNode("root-taken", "", "metrics_addr: tcp://127.0.0.1:" + port);
    assertThat(Scrape.get(URI.create("http://127.0.0.1:" + port + "/healthz")).statusCode())
        .isEqualTo(200);
  }

  @Test
  void closingTheNodeStopsTheMetricsServer() throws Exception {
    int port = Scrape.freePort();
    TestNode node = startNode("root-close", "", "metrics_addr: tcp://127.0.0.1:" + port);
    node.close();

    // The port is free again: a new server can bind it at once.
    try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }

}
