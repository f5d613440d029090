package org.modelpack.csi.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private final Path cwd = Path.of("/work/dir");

  private ConfigLoader loader(Map<String, String> env) {
    return new ConfigLoader(env, () -> "host-1", cwd);
  }

  @Test
  void defaultsWorkWithoutAnyConfigFile() {
    DriverConfig c = loader(Map.of("DOCKER_CONFIG", "/d")).load(null);
    assertThat(c.serviceName()).isEqualTo("model.csi.modelpack.org");
    assertThat(c.rootDir()).isEqualTo(Path.of("/work/dir/var/model-csi"));
    assertThat(c.csiEndpoint()).isEqualTo(Path.of("/work/dir/var/model-csi/csi/csi.sock"));
    assertThat(c.nodeId()).isEqualTo("host-1");
    assertThat(c.pull().concurrency()).isEqualTo(5);
    assertThat(c.pull().dockerConfigDir()).isEqualTo(Path.of("/d"));
    assertThat(c.features().checkDiskQuota()).isFalse();
  }

  @Test
  void modeDefaultsToNodeAsServeAlwaysWasAndAcceptsTheGoDriversModes() {
    assertThat(loader(Map.of()).load(null).mode()).isEqualTo(ServeMode.NODE);
    assertThat(loader(Map.of()).parse("mode: controller").mode())
        .isEqualTo(ServeMode.CONTROLLER);
    assertThat(loader(Map.of()).parse("mode: Node").mode()).isEqualTo(ServeMode.NODE);
    assertThat(loader(Map.of()).parse("mode: all").withMode(ServeMode.CONTROLLER).mode())
        .as("the --mode flag wins").isEqualTo(ServeMode.CONTROLLER);
    assertThatThrownBy(() -> loader(Map.of()).parse("mode: both"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("config key mode")
        .hasMessageContaining("'both'")
        .hasMessageContaining("controller, node or all");
  }

  @Test
  void goDriverConfigFileIsAcceptedAsIs() {
    DriverConfig c = loader(Map.of("CSI_NODE_ID", "node-a", "POD_IP", "10.0.0.9")).parse("""
        service_name: model.csi.example.com
        root_dir: /var/lib/model-csi
        csi_endpoint: unix:///csi/csi.sock
        external_csi_endpoint: tcp://127.0.0.1:5243
        dynamic_csi_endpoint: unix:///var/lib/model-csi/dynamic/csi.sock
        metrics_addr: tcp://$POD_IP:5244
        pull_config:
          docker_config_dir: /root/.docker
          concurrency: 8
          proxy_url: http://proxy.local:3128
          pull_layer_timeout_in_seconds: 300
        features:
          check_disk_quota: true
          disk_usage_limit: 10TiB
        """);
    assertThat(c.serviceName()).isEqualTo("model.csi.example.com");
    assertThat(c.attributeKey("reference")).isEqualTo("model.csi.example.com/reference");
    assertThat(c.rootDir()).isEqualTo(Path.of("/var/lib/model-csi"));
    assertThat(c.csiEndpoint()).isEqualTo(Path.of("/csi/csi.sock"));
    assertThat(c.nodeId()).isEqualTo("node-a");
    assertThat(c.metricsAddr().listeners()).containsExactly(
        new MetricsAddress.Listener("10.0.0.9", 5244), new MetricsAddress.Listener("127.0.0.1", 5244));
    assertThat(c.pull().concurrency()).isEqualTo(8);
    assertThat(c.pull().proxyUrl()).isEqualTo("http://proxy.local:3128");
    assertThat(c.pull().dockerConfigDir()).isEqualTo(Path.of("/root/.docker"));
    assertThat(c.features().checkDiskQuota()).isTrue();
    assertThat(c.features().diskUsageLimitBytes()).isEqualTo(10L << 40);
  }

  @Test
  void nodeIdComesFromEnvironmentThenKeyThenHostName() {
    assertThat(loader(Map.of()).parse("node_id: n-key").nodeId()).isEqualTo("n-key");
    assertThat(loader(Map.of("CSI_NODE_ID", "n-env")).parse("node_id: n-key").nodeId())
        .isEqualTo("n-env");
    assertThat(loader(Map.of()).parse("{}").nodeId()).isEqualTo("host-1");
  }

  @Test
  void relativeRootDirIsResolvedAgainstTheWorkingDirectory() {
    assertThat(loader(Map.of()).parse("root_dir: data/csi").rootDir())
        .isEqualTo(Path.of("/work/dir/data/csi"));
  }

  @Test
  void tcpEndpointIsRejectedNamingTheKey() {
    assertThatThrownBy(() -> loader(Map.of()).parse("csi_endpoint: tcp://127.0.0.1:1"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("csi_endpoint");
  }

  @Test
  void relativeUnixEndpointIsRejected() {
    assertThatThrownBy(() -> loader(Map.of()).parse("csi_endpoint: unix://csi.sock"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("absolute");
  }

  @Test
  void nonNumericConcurrencyIsRejectedNamingTheKey() {
    assertThatThrownBy(() -> loader(Map.of()).parse("pull_config:\n  concurrency: lots"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("pull_config.concurrency");
  }

  @Test
  void zeroConcurrencyIsRejected() {
    assertThatThrownBy(() -> loader(Map.of()).parse("pull_config:\n  concurrency: 0"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("at least 1");
  }

  @Test
  void badDiskUsageLimitIsRejectedNamingTheKey() {
    assertThatThrownBy(() -> loader(Map.of()).parse("features:\n  disk_usage_limit: ten"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("features.disk_usage_limit");
  }

  @Test
  void badBooleanIsRejectedNamingTheKey() {
    assertThatThrownBy(() -> loader(Map.of()).parse("features:\n  check_disk_quota: maybe"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("features.check_disk_quota");
  }

  @Test
  void invalidServiceNameIsRejected() {
    assertThatThrownBy(() -> loader(Map.of()).parse("service_name: 'bad name!'"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("service_name");
  }

  @Test
  void nonHttpProxyIsRejected() {
    assertThatThrownBy(() -> loader(Map.of()).parse("pull_config:\n  proxy_url: socks5://x:1"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("pull_config.proxy_url");
  }

  @Test
  void plainHttpRegistriesAreRead() {
    DriverConfig c = loader(Map.of()).parse(
        "pull_config:\n  plain_http_registries: [\"registry.local:5000\", \"10.0.0.1\"]");
    assertThat(c.pull().plainHttpRegistries()).containsExactlyInAnyOrder("registry.local:5000",
        "10.0.0.1");
  }

  @Test
  void malformedYamlFailsWithAClearMessage() {
    assertThatThrownBy(() -> loader(Map.of()).parse("root_dir: [unclosed"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("not valid YAML");
  }

  @Test
  void invalidYamlFileIsOneLineNamingTheFileTheProblemAndWhere(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("bad.yaml"), "root_dir: /x\nservice_name: a: b\n");
    assertThatThrownBy(() -> loader(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("config file " + file + " is not valid YAML: mapping values are not allowed"
            + " here at line 2, column 16");
  }

  @Test
  void fileThatIsNotUtf8IsRejectedAsSuch(@TempDir Path dir) throws Exception {
    Path file = Files.write(dir.resolve("driver.jar"), new byte[] {'P', 'K', 3, 4, (byte) 0xC3,
        (byte) 0x28, (byte) 0xFF, 0});
    assertThatThrownBy(() -> loader(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("config file " + file + " is not UTF-8 text");
  }

  @Test
  void missingFileFailsNamingTheFile(@TempDir Path dir) {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> loader(Map.of()).load(missing))
        .isInstanceOf(ConfigException.class).hasMessageContaining(missing.toString());
  }

  @Test
  void emptyFileMeansDefaults(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.yaml"), "");
    assertThat(loader(Map.of()).load(empty).serviceName()).isEqualTo("model.csi.modelpack.org");
  }

  @Test
  void cacheKeysDefaultToAStoreUnderRootDir() {
    DriverConfig c = loader(Map.of()).parse("root_dir: /r");
    assertThat(c.cache().dir()).isEqualTo(Path.of("/r/store"));
    assertThat(c.cache().maxSizeBytes()).isZero();
    assertThat(c.cache().highWatermarkPercent()).isEqualTo(85);
    assertThat(c.cache().lowWatermarkPercent()).isEqualTo(70);
    assertThat(c.pull().nodeLayerConcurrency()).isZero();
  }

  @Test
  void cacheKeysAreRead() {
    DriverConfig c = loader(Map.of()).parse("""
        cache:
          dir: /mnt/fast/store
          max_size: 500GiB
          high_watermark: 90%
          low_watermark: 60
        pull_config:
          node_layer_concurrency: 8
        """);
    assertThat(c.cache().dir()).isEqualTo(Path.of("/mnt/fast/store"));
    assertThat(c.cache().maxSizeBytes()).isEqualTo(500L << 30);
    assertThat(c.cache().highWatermarkPercent()).isEqualTo(90);
    assertThat(c.cache().lowWatermarkPercent()).isEqualTo(60);
    assertThat(c.pull().nodeLayerConcurrency()).isEqualTo(8);
  }

  @Test
  void lowWatermarkAboveHighIsRejected() {
    assertThatThrownBy(() -> loader(Map.of()).parse("cache: {high_watermark: 50, low_watermark: 60}"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cache.low_watermark");
  }

  @Test
  void watermarkOutsideZeroToHundredIsRejected() {
    assertThatThrownBy(() -> loader(Map.of()).parse("cache: {high_watermark: 150}"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cache.high_watermark");
  }

  @Test
  void negativeNodeLayerConcurrencyIsRejected() {
    assertThatThrownBy(() -> loader(Map.of()).parse("pull_config: {node_layer_concurrency: -1}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("pull_config.node_layer_concurrency");
  }

  @Test
  void retryStallAndParallelDownloadDefaults() {
    PullConfig p = loader(Map.of()).load(null).pull();
    assertThat(p.retryAttempts()).isEqualTo(6);
    assertThat(p.retryInitialBackoff()).isEqualTo(java.time.Duration.ofSeconds(1));
    assertThat(p.retryMaxBackoff()).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(p.stallTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(p.parallelDownloadThreshold()).isEqualTo(256L << 20);
    assertThat(p.parallelDownloadConnections()).isEqualTo(4);
  }

  @Test
  void retryStallAndParallelDownloadKeysAreRead() {
    PullConfig p = loader(Map.of()).parse("""
        pull_config:
          retry_attempts: 3
          retry_initial_backoff: 250ms
          retry_max_backoff: 1m
          stall_timeout: 2m30s
          parallel_download_threshold: 1GiB
          parallel_download_connections: 8
        """).pull();
    assertThat(p.retryAttempts()).isEqualTo(3);
    assertThat(p.retryInitialBackoff()).isEqualTo(java.time.Duration.ofMillis(250));
    assertThat(p.retryMaxBackoff()).isEqualTo(java.time.Duration.ofMinutes(1));
    assertThat(p.stallTimeout()).isEqualTo(java.time.Duration.ofSeconds(150));
    assertThat(p.parallelDownloadThreshold()).isEqualTo(1L << 30);
    assertThat(p.parallelDownloadConnections()).isEqualTo(8);
    assertThat(loader(Map.of()).parse("pull_config: {parallel_download_threshold: 0}").pull()
        .parallelDownloadThreshold()).isZero();
    assertThat(loader(Map.of()).parse("pull_config: {retry_initial_backoff: 1m}").pull()
        .retryMaxBackoff()).isEqualTo(java.time.Duration.ofMinutes(1));
  }

  @Test
  void invalidRetryStallAndParallelDownloadValuesNameTheKey() {
    ConfigLoader l = loader(Map.of());
    assertThatThrownBy(() -> l.parse("pull_config: {retry_attempts: 0}"))
        .hasMessageContaining("pull_config.retry_attempts").hasMessageContaining("1-100");
    assertThatThrownBy(() -> l.parse("pull_config: {retry_attempts: many}"))
        .hasMessageContaining("pull_config.retry_attempts");
    assertThatThrownBy(() -> l.parse("pull_config: {retry_initial_backoff: fast}"))
        .hasMessageContaining("pull_config.retry_initial_backoff");
    assertThatThrownBy(() -> l.parse(
        "pull_config: {retry_initial_backoff: 10s, retry_max_backoff: 5s}"))
        .hasMessageContaining("pull_config.retry_max_backoff")
        .hasMessageContaining("pull_config.retry_initial_backoff");
    assertThatThrownBy(() -> l.parse("pull_config: {stall_timeout: 0s}"))
        .hasMessageContaining("pull_config.stall_timeout");
    assertThatThrownBy(() -> l.parse("pull_config: {stall_timeout: 48h}"))
        .hasMessageContaining("pull_config.stall_timeout");
    assertThatThrownBy(() -> l.parse("pull_config: {parallel_download_threshold: big}"))
        .hasMessageContaining("pull_config.parallel_download_threshold");
    assertThatThrownBy(() -> l.parse("pull_config: {parallel_download_threshold: -1}"))
        .hasMessageContaining("pull_config.parallel_download_threshold");
    assertThatThrownBy(() -> l.parse("pull_config: {parallel_download_connections: 0}"))
        .hasMessageContaining("pull_config.parallel_download_connections");
    assertThatThrownBy(() -> l.parse("pull_config: {parallel_download_connections: 17}"))
        .hasMessageContaining("pull_config.parallel_download_connections");
  }

  @Test
  void maxExpansionRatioDefaultsTo100AcceptsZeroAndRefusesNegativeNamingTheKey() {
    ConfigLoader l = loader(Map.of());
    assertThat(l.parse("{}").pull().maxExpansionRatio()).isEqualTo(100);
    assertThat(l.parse("pull_config: {max_expansion_ratio: 0}").pull().maxExpansionRatio())
        .isZero();
    assertThat(l.parse("pull_config: {max_expansion_ratio: 1000}").pull().maxExpansionRatio())
        .isEqualTo(1000);
    assertThatThrownBy(() -> l.parse("pull_config: {max_expansion_ratio: -1}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("pull_config.max_expansion_ratio");
    assertThatThrownBy(() -> l.parse("pull_config: {max_expansion_ratio: lots}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("pull_config.max_expansion_ratio");
  }
}
