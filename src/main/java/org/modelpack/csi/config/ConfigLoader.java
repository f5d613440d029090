package org.modelpack.csi.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Reads the YAML configuration (the Go driver's keys), fills in defaults and validates every
 * value, failing with a message that names the offending key. The environment adds what a pod
 * only learns at run time: {@code CSI_NODE_ID}, {@code POD_IP} and {@code DOCKER_CONFIG}.
 */
public final class ConfigLoader {
  private final Map<String, String> env;
  private final Supplier<String> hostName;
  private final Path workingDir;

  public ConfigLoader(Map<String, String> env, Supplier<String> hostName, Path workingDir) {
    this.env = env;
    this.hostName = hostName;
    this.workingDir = workingDir;
  }

  /** A loader reading the real environment and host name. */
  public static ConfigLoader system() {
    return new ConfigLoader(System.getenv(), ConfigLoader::localHostName,
        Path.of("").toAbsolutePath());
  }

  /** Loads {@code file}, or the defaults when {@code file} is null. */
  public DriverConfig load(Path file) {
    return fromTree(file == null ? ConfigYaml.emptyMapping() : ConfigYaml.readFile(file));
  }

  /** Parses YAML text; used by tests. */
  public DriverConfig parse(String yaml) {
    return fromTree(ConfigYaml.parse(yaml, "config"));
  }

  private DriverConfig fromTree(JsonNode tree) {
    ConfigKeys.warnAboutUnused(tree);
    ConfigSection root = ConfigSection.root(tree);
    String serviceName = root.string("service_name", DriverConfig.DEFAULT_SERVICE_NAME);
    if (!serviceName.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?")) {
      throw new ConfigException("config key service_name: '" + serviceName
          + "' is not a valid CSI driver name (DNS-1123 style, at most 63 characters)");
    }
    Path rootDir = root.path("root_dir", DriverConfig.DEFAULT_ROOT_DIR, workingDir);
    Path endpoint = socketPath(root.string("csi_endpoint",
        "unix://" + rootDir.resolve(DriverConfig.DEFAULT_SOCKET)));
    String nodeId = firstNonBlank(env.get("CSI_NODE_ID"), root.string("node_id", null));
    if (nodeId == null) {
      nodeId = hostName.get();
    }
    MetricsAddress metricsAddr = MetricsAddress.parse(root.string("metrics_addr", null),
        env.get("POD_IP"));
    String defaultDockerDir = firstNonBlank(env.get("DOCKER_CONFIG"),
        Path.of(System.getProperty("user.home"), ".docker").toString());
    return new DriverConfig(serviceName, rootDir, endpoint, nodeId, metricsAddr,
        PullConfigReader.read(root.section("pull_config"), workingDir, defaultDockerDir),
        cacheConfig(root.section("cache"), rootDir), features(root.section("features")),
        mode(root));
  }

  private CacheConfig cacheConfig(ConfigSection cache, Path rootDir) {
    Path dir = cache.path("dir", rootDir.resolve("store").toString(), workingDir);
    long max = cache.size("max_size", CacheConfig.DEFAULT_MAX_SIZE_BYTES);
    int high = cache.percent("high_watermark", CacheConfig.DEFAULT_HIGH_WATERMARK_PERCENT);
    int low = cache.percent("low_watermark", CacheConfig.DEFAULT_LOW_WATERMARK_PERCENT);
    if (low > high) {
      throw new ConfigException("config key cache.low_watermark: " + low
          + " must not be above cache.high_watermark " + high);
    }
    return new CacheConfig(dir, max, high, low);
  }

  private static ServeMode mode(ConfigSection root) {
    try {
      return ServeMode.parse(root.string("mode", ServeMode.DEFAULT.value()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("config key mode: " + e.getMessage());
    }
  }

  private static Features features(ConfigSection features) {
    return new Features(features.bool("check_disk_quota", false),
        features.size("disk_usage_limit", 0));
  }

  private static Path socketPath(String endpoint) {
    if (!endpoint.startsWith("unix://")) {
      throw new ConfigException("config key csi_endpoint: '" + endpoint
          + "' must be a unix socket URL such as unix:///var/lib/kubelet/plugins/x/csi.sock");
    }
    String path = endpoint.substring("unix://".length());
    if (!path.startsWith("/")) {
      throw new ConfigException("config key csi_endpoint: '" + endpoint
          + "' must name an absolute path (unix:///abs/path)");
    }
    return Path.of(path).normalize();
  }

  private static String firstNonBlank(String a, String b) {
    if (a != null && !a.isBlank()) {
      return a.trim();
    }
    return b == null || b.isBlank() ? null : b.trim();
  }

  private static String localHostName() {
    String h = System.getenv("HOSTNAME");
    if (h != null && !h.isBlank()) {
      return h;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
