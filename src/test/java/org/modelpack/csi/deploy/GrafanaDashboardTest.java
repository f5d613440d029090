package org.modelpack.csi.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.config.MetricsAddress;
import org.modelpack.csi.metrics.DriverMetrics;
import org.modelpack.csi.registry.RegistryStats;
import org.modelpack.csi.server.NodePlugin;
import org.modelpack.csi.store.StoreStats;
import org.modelpack.csi.testing.Scrape;
import org.modelpack.csi.volume.NodeOps.Outcome;
import org.modelpack.csi.volume.NodeOps;

/**
 * The Grafana dashboard shipped with the chart: every query in it reads series the driver
 * exports (taken from a scrape of the driver's own metrics, not from a list kept here), it is
 * built on a Prometheus data source variable and a node variable, and the chart carries it in a
 * ConfigMap for Grafana's sidecar only when asked to.
 */
class GrafanaDashboardTest {
  static final Path DASHBOARD = RenderedChart.CHART.resolve("dashboards/model-csi-driver.json");
  static final ObjectMapper JSON = new ObjectMapper();
  static final String DATASOURCE = "${datasource}";

  @TempDir static Path dir;
  static NodePlugin node;
  static DriverMetrics.Serving serving;
  /** The series names of one scrape of the driver's /metrics. */
  static Set<String> exported;
  static JsonNode dashboard;

  /**
   * A node plugin (for its layer store and volume manager) and the driver's metrics served on
   * loopback, with one operation of each outcome and one layer download recorded so that the
   * labelled counters and histograms have series; then one scrape over HTTP.
   */
  @BeforeAll
  static void scrapeTheDriversMetrics() throws Exception {
    dashboard = JSON.readTree(DASHBOARD.toFile());
    Path root = dir.resolve("root");
    node = NodePlugin.start(new ConfigLoader(Map.of(), () -> "test-node", dir).parse("""
        root_dir: %s
        csi_endpoint: unix://%s/csi.sock
        """.formatted(root, root)));
    int port = Scrape.freePort();
    DriverMetrics metrics = DriverMetrics.create(
        MetricsAddress.parse("tcp://127.0.0.1:" + port, null))
        .countRegistryRetries(new RegistryStats()).storeBudget(10L << 30);
    serving = metrics.serve(node.store(), node.volumes(), () -> true);
    NodeOps ops = metrics.nodeOps();
    ops.record("publish_dynamic_volume", Outcome.SUCCEEDED, 2_000_000_000L);
    ops.record("publish_dynamic_volume", Outcome.FAILED, 1_000_000L);
    assertThat(ops).as("layer downloads are timed through the node's operation metrics")
        .isInstanceOf(StoreStats.DownloadListener.class);
    ((StoreStats.DownloadListener) ops).downloadEnded(1 << 20, 1_000_000_000L, true);
    HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(30))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(scrape.statusCode()).isEqualTo(200);
    exported = scrape.body().lines().filter(l -> !l.isBlank() && !l.startsWith("#"))
        .map(l -> l.split("[{ ]", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
  }

  @AfterAll
  static void stop() {
    if (serving != null) {
      serving.close();
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  void everyQueryReadsSeriesTheDriverExports() {
    List<DashboardQueries.Query> queries = DashboardQueries.of(dashboard);
    assertThat(queries).hasSizeGreaterThan(20);
    assertThat(DashboardQueries.unknownMetrics(queries, exported))
        .as("queries naming a series the driver does not export; it exports %s", exported)
        .isEmpty();
  }

  @Test
  void thePanelsTheIssueAsksForReadTheirMetrics() {
    Set<String> read = DashboardQueries.of(dashboard).stream()
        .flatMap(q -> DashboardQueries.metricNames(q.text()).stream())
        .collect(Collectors.toSet());
    assertThat(read).contains("model_csi_node_pulls_in_flight",
        "model_csi_store_downloaded_bytes_total", "model_csi_store_layer_hits_total",
        "model_csi_store_layer_misses_total", "model_csi_store_layer_joins_total",
        "model_csi_store_dedup_saved_bytes_total", "model_csi_store_size_bytes",
        "model_csi_node_op_latency_in_seconds_bucket", "model_csi_node_op_failed",
        "model_csi_node_pull_op_latency_in_seconds_bucket", "model_csi_store_budget_bytes",
        "model_csi_registry_retries_total", "model_csi_registry_resumes_total");
    assertThat(DashboardQueries.of(dashboard)).extracting(DashboardQueries.Query::where)
        .as("the collapsed JVM row's panels are read too").anyMatch(w -> w.contains("JVM heap"));
  }

  @Test
  void aMisspelledOrMadeUpMetricInANestedPanelOrVariableIsReported() throws Exception {
    JsonNode broken = JSON.readTree("""
        {"panels": [{"type": "row", "title": "Row", "panels": [{"title": "Inner",
           "targets": [{"refId": "A",
             "expr": "sum(rate(model_csi_store_downloaded_byte_total{instance=~\\"$instance\\"}[5m]))"}]}]},
          {"title": "Latency", "targets": [{"refId": "B",
             "expr": "histogram_quantile(0.9, sum by (le) (rate(model_csi_node_op_latency_in_seconds[5m])))"}]}],
         "templating": {"list": [{"type": "query", "name": "node",
             "query": {"query": "label_values(model_csi_node_ready, instance)"}}]}}
        """);
    assertThat(DashboardQueries.unknownMetrics(DashboardQueries.of(broken), exported))
        .hasSize(3).anyMatch(m -> m.startsWith("panel 'Inner' target A: "
            + "model_csi_store_downloaded_byte_total"))
        .anyMatch(m -> m.startsWith("panel 'Latency' target B: "
            + "model_csi_node_op_latency_in_seconds "))
        .anyMatch(m -> m.startsWith("variable $node: model_csi_node_ready"));
  }

  @Test
  void tokenizerKeepsOnlySeriesNames() {
    assertThat(DashboardQueries.metricNames("histogram_quantile(0.99, sum by (le, op) (rate("
        + "model_csi_node_op_latency_in_seconds_bucket{op=~\"publish_.*|x\", instance=~\"$node\"}"
        + "[$__rate_interval])))")).containsExactly("model_csi_node_op_latency_in_seconds_bucket");
    assertThat(DashboardQueries.metricNames("sum without (job) (a_total offset 5m) / on(instance)"
        + " group_left(op) b > bool 1e9 or vector(${budget}) unless count(c[1h:5m]) and max(d)"
        + " by (x)")).containsExactly("a_total", "b", "c", "d");
    assertThat(DashboardQueries.metricNames("label_values(model_csi_node_not_ready, instance)"))
        .containsExactly("model_csi_node_not_ready");
    assertThat(DashboardQueries.metricNames("label_values(instance)")).isEmpty();
    assertThat(DashboardQueries.metricNames("query_result(topk(3, x{a=\"b\"}))"))
        .containsExactly("x");
  }

  @Test
  void panelsAndVariablesQueryThePrometheusDatasourceVariableAndTheNodeVariable() {
    JsonNode variables = dashboard.at("/templating/list");
    assertThat(variables).anySatisfy(v -> {
      assertThat(v.path("name").asText()).isEqualTo("datasource");
      assertThat(v.path("type").asText()).isEqualTo("datasource");
      assertThat(v.path("query").asText()).isEqualTo("prometheus");
    });
    assertThat(variables).anySatisfy(v -> {
      assertThat(v.path("name").asText()).isEqualTo("instance");
      assertThat(v.path("datasource").path("uid").asText()).isEqualTo(DATASOURCE);
    });
    List<JsonNode> panels = dashboard.findParents("targets");
    assertThat(panels).hasSizeGreaterThan(15).allSatisfy(p -> {
      assertThat(p.at("/datasource/uid").asText()).isEqualTo(DATASOURCE);
      assertThat(p.path("targets")).allSatisfy(t -> {
        assertThat(t.at("/datasource/uid").asText()).isEqualTo(DATASOURCE);
        assertThat(t.path("expr").asText()).as(p.path("title").asText())
            .contains("instance=~\"$instance\"");
      });
    });
    assertThat(dashboard.findValuesAsText("uid")).filteredOn(u -> !u.equals(DATASOURCE))
        .as("no data source of the author's Grafana").containsExactly("model-csi-driver");
  }

  @Test
  void defaultValuesRenderNoDashboard() {
    assertThat(RenderedChart.render("", dir).all(ConfigMap.class))
        .noneMatch(c -> c.getData().containsKey("model-csi-driver.json"));
  }

  @Test
  void enabledTheChartCarriesTheDashboardInAConfigMapLabelledForGrafanasSidecar()
      throws Exception {
    String file = Files.readString(DASHBOARD);
    ConfigMap byDefault = dashboardConfigMap(RenderedChart.render(
        "grafanaDashboard: {enabled: true}", dir));
    assertThat(byDefault.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1")
        .containsEntry("app.kubernetes.io/instance", RenderedChart.RELEASE);
    assertThat(byDefault.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
    String carried = byDefault.getData().get("model-csi-driver.json");
    assertThat(carried.strip()).isEqualTo(file.strip());
    assertThat(JSON.readTree(carried)).isEqualTo(dashboard);

    ConfigMap custom = dashboardConfigMap(RenderedChart.render("""
        grafanaDashboard:
          enabled: true
          label: grafana_dashboard_storage
          labelValue: "yes"
          namespace: monitoring
          annotations: {grafana_folder: Storage}
        """, dir));
    assertThat(custom.getMetadata().getLabels()).containsEntry("grafana_dashboard_storage", "yes")
        .doesNotContainKey("grafana_dashboard");
    assertThat(custom.getMetadata().getNamespace()).isEqualTo("monitoring");
    assertThat(custom.getMetadata().getAnnotations()).containsEntry("grafana_folder", "Storage");
  }

  @Test
  void lintPassesWithTheDashboardEnabled(@TempDir Path copies) {
    Path chart = RenderedChart.chartWithValues("grafanaDashboard: {enabled: true}", copies);
    LintResult result = new Helm(chart).lint().strict().call();
    assertThat(result.isFailed()).as("%s", result.getMessages()).isFalse();
  }

  private static ConfigMap dashboardConfigMap(RenderedChart chart) {
    List<ConfigMap> found = chart.all(ConfigMap.class).stream()
        .filter(c -> c.getMetadata().getName().endsWith("-dashboard")).toList();
    assertThat(found).hasSize(1);
    return found.get(0);
  }

}
