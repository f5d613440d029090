package org.modelpack.csi.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads the YAML configuration (the Go driver's keys), fills in defaults and validates every
 * value, failing with a message that names the offending key.
 */
public final class ConfigLoader {
  private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Keys of the Go driver this driver accepts but does not act on (yet). */
  private static final Set<String> ACCEPTED_UNUSED = Set.of(
      "external_csi_endpoint", "external_csi_authorization", "dynamic_csi_endpoint",
      "trace_endpoint", "pprof_addr", "log_level", "mode",
      "pull_config.dragonfly_endpoint", "pull_config.pull_layer_timeout_in_seconds");

  private static final Set<String> KNOWN = Set.of(
      "service_name", "root_dir", "csi_endpoint", "node_id", "metrics_addr",
      "pull_config", "pull_config.docker_config_dir", "pull_config.concurrency",
      "pull_config.proxy_url", "pull_config.plain_http_registries",
      "pull_config.node_layer_concurrency", "pull_config.publish_wait_seconds",
      "pull_config.orphan_timeout", "pull_config.retry_attempts",
      "pull_config.retry_initial_backoff", "pull_config.retry_max_backoff",
      "pull_config.stall_timeout", "pull_config.parallel_download_threshold",
      "pull_config.parallel_download_connections", "pull_config.mirrors",
      "pull_config.max_expansion_ratio",
      "cache", "cache.dir", "cache.max_size", "cache.high_watermark", "cache.low_watermark",
      "features", "features.check_disk_quota", "features.disk_usage_limit");

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
    if (file == null) {
      return fromTree(YAML.createObjectNode());
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (CharacterCodingException e) {
      throw new ConfigException("config file " + file + " is not UTF-8 text", e);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist", e);
    } catch (IOException e) {
      String reason = e instanceof FileSystemException f && f.getReason() != null
          ? f.getReason() : e.getMessage();
      throw new ConfigException("cannot read config file " + file + ": " + reason, e);
    }
    JsonNode tree = readYaml(text, "config file " + file);
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      tree = YAML.createObjectNode();
    }
    if (!tree.isObject()) {
      throw new ConfigException("config file " + file + " must be a YAML mapping");
    }
    return fromTree(tree);
  }

  /** Parses YAML text; used by tests and by {@link #load}. */
  public DriverConfig parse(String yaml) {
    JsonNode tree = readYaml(yaml, "config");
    return fromTree(tree == null || tree.isMissingNode() || tree.isNull()
        ? YAML.createObjectNode() : tree);
  }

  /**
   * Parses YAML; a syntax error becomes one line: the parser's problem and where it is. The
   * parser's own message spans several lines (context, a snippet with a caret), which a log
   * line or a CLI error cannot carry.
   */
  private static JsonNode readYaml(String text, String what) {
    try {
      return YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigException(what + " is not valid YAML: " + yamlProblem(e), e);
    }
  }

  private static String yamlProblem(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException m && m.getProblem() != null) {
      String where = m.getProblemMark() == null ? ""
          : " at line " + (m.getProblemMark().getLine() + 1) + ", column "
              + (m.getProblemMark().getColumn() + 1);
      return m.getProblem().strip().lines().findFirst().orElse("") + where;
    }
    String first = String.valueOf(e.getOriginalMessage()).strip().lines().findFirst().orElse("");
    JsonLocation at = e.getLocation();
    return at == null ? first
        : first + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }

  private DriverConfig fromTree(JsonNode root) {
    reportUnknownKeys(root, "");
    String serviceName = string(root, "service_name", DriverConfig.DEFAULT_SERVICE_NAME);
    if (!serviceName.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?")) {
      throw new ConfigException("config key service_name: '" + serviceName
          + "' is not a valid CSI driver name (DNS-1123 style, at most 63 characters)");
    }
    Path rootDir = absolute("root_dir", string(root, "root_dir",
        workingDir.resolve("var/model-csi").toString()));
    Path endpoint = socketPath(string(root, "csi_endpoint",
        "unix://" + rootDir.resolve("csi/csi.sock")));
    String nodeId = firstNonBlank(env.get("CSI_NODE_ID"), string(root, "node_id", null));
    if (nodeId == null) {
      nodeId = hostName.get();
    }
    String metricsAddr = string(root, "metrics_addr", null);
    if (metricsAddr != null && env.get("POD_IP") != null) {
      metricsAddr = metricsAddr.replace("$POD_IP", env.get("POD_IP"));
    }
    return new DriverConfig(serviceName, rootDir, endpoint, nodeId, metricsAddr,
        pullConfig(root.path("pull_config")), cacheConfig(root.path("cache"), rootDir),
        features(root.path("features")));
  }

  private PullConfig pullConfig(JsonNode node) {
    requireMapping(node, "pull_config");
    String defaultDockerDir = firstNonBlank(env.get("DOCKER_CONFIG"),
        Path.of(System.getProperty("user.home"), ".docker").toString());
    Path dockerDir = absolute("pull_config.docker_config_dir",
        string(node, "docker_config_dir", "pull_config.docker_config_dir", defaultDockerDir));
    int concurrency = integer(node, "concurrency", "pull_config.concurrency",
        PullConfig.DEFAULT_CONCURRENCY);
    if (concurrency < 1) {
      throw new ConfigException("config key pull_config.concurrency: must be at least 1, got "
          + concurrency);
    }
    String proxy = string(node, "proxy_url", "pull_config.proxy_url", null);
    if (proxy != null) {
      try {
        URI uri = new URI(proxy);
        if (uri.getHost() == null || !"http".equals(uri.getScheme())) {
          throw new URISyntaxException(proxy, "expected http://host:port");
        }
      } catch (URISyntaxException e) {
        throw new ConfigException("config key pull_config.proxy_url: '" + proxy
            + "' is not an http://host:port URL");
      }
    }
    Set<String> plain = new LinkedHashSet<>();
    JsonNode hosts = node.path("plain_http_registries");
    if (!hosts.isMissingNode() && !hosts.isNull()) {
      if (!hosts.isArray()) {
        throw new ConfigException(
            "config key pull_config.plain_http_registries: must be a list of host[:port]");
      }
      hosts.forEach(h -> plain.add(h.asText().trim()));
    }
    int nodeLayers = integer(node, "node_layer_concurrency", "pull_config.node_layer_concurrency",
        0);
    if (nodeLayers < 0) {
      throw new ConfigException("config key pull_config.node_layer_concurrency: must be 0 "
          + "(unlimited) or more, got " + nodeLayers);
    }
    int wait = integer(node, "publish_wait_seconds", "pull_config.publish_wait_seconds", 100);
    if (wait < 0 || wait > 110) {
      throw new ConfigException("config key pull_config.publish_wait_seconds: must be 0-110 "
          + "(kubelet abandons a call after 120 s), got " + wait);
    }
    Duration orphan = duration(node, "orphan_timeout", "pull_config.orphan_timeout",
        Duration.ofMinutes(10));
    int attempts = integer(node, "retry_attempts", "pull_config.retry_attempts",
        PullConfig.DEFAULT_RETRY_ATTEMPTS);
    if (attempts < 1 || attempts > 100) {
      throw new ConfigException("config key pull_config.retry_attempts: must be 1-100 (1 = no "
          + "retries), got " + attempts);
    }
    Duration initial = duration(node, "retry_initial_backoff", "pull_config.retry_initial_backoff",
        PullConfig.DEFAULT_RETRY_INITIAL_BACKOFF);
    Duration maxBackoff = duration(node, "retry_max_backoff", "pull_config.retry_max_backoff",
        PullConfig.DEFAULT_RETRY_MAX_BACKOFF.compareTo(initial) < 0 ? initial
            : PullConfig.DEFAULT_RETRY_MAX_BACKOFF);
    if (maxBackoff.compareTo(initial) < 0) {
      throw new ConfigException("config key pull_config.retry_max_backoff: " + maxBackoff
          .toMillis() + " ms must not be shorter than pull_config.retry_initial_backoff "
          + initial.toMillis() + " ms");
    }
    Duration stall = duration(node, "stall_timeout", "pull_config.stall_timeout",
        PullConfig.DEFAULT_STALL_TIMEOUT);
    if (stall.compareTo(Duration.ofDays(1)) > 0) {
      throw new ConfigException("config key pull_config.stall_timeout: must be at most 24h, got "
          + stall);
    }
    long threshold = size(node, "parallel_download_threshold",
        "pull_config.parallel_download_threshold", PullConfig.DEFAULT_PARALLEL_DOWNLOAD_THRESHOLD);
    if (threshold < 0) {
      throw new ConfigException("config key pull_config.parallel_download_threshold: must be "
          + "0 (off) or a size, got " + threshold);
    }
    int connections = integer(node, "parallel_download_connections",
        "pull_config.parallel_download_connections",
        PullConfig.DEFAULT_PARALLEL_DOWNLOAD_CONNECTIONS);
    if (connections < 1 || connections > PullConfig.MAX_PARALLEL_DOWNLOAD_CONNECTIONS) {
      throw new ConfigException("config key pull_config.parallel_download_connections: must be "
          + "1-" + PullConfig.MAX_PARALLEL_DOWNLOAD_CONNECTIONS + ", got " + connections);
    }
    int ratio = integer(node, "max_expansion_ratio", "pull_config.max_expansion_ratio",
        PullConfig.DEFAULT_MAX_EXPANSION_RATIO);
    if (ratio < 0) {
      throw new ConfigException("config key pull_config.max_expansion_ratio: must be 0 (no "
          + "ratio bound) or more, got " + ratio);
    }
    Map<String, List<Mirror>> mirrors = mirrors(node.path("mirrors"));
    mirrors.values().forEach(list -> list.stream().filter(Mirror::plainHttp)
        .forEach(m -> plain.add(m.host())));
    return new PullConfig(dockerDir, concurrency, proxy, plain, nodeLayers,
        Duration.ofSeconds(wait), orphan, attempts, initial, maxBackoff, stall, threshold,
        connections, mirrors, ratio);
  }

  /**
   * {@code pull_config.mirrors}: registry host → list of endpoints ({@code http://host:port},
   * {@code https://host} or {@code host[:port]}, https by default), tried in order.
   */
  private static Map<String, List<Mirror>> mirrors(JsonNode node) {
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new ConfigException("config key pull_config.mirrors: must map a registry host to a "
          + "list of mirror endpoints");
    }
    Map<String, List<Mirror>> out = new java.util.LinkedHashMap<>();
    Iterator<String> hosts = node.fieldNames();
    while (hosts.hasNext()) {
      String registry = hosts.next();
      JsonNode list = node.get(registry);
      if (!list.isArray() || list.isEmpty()) {
        throw new ConfigException("config key pull_config.mirrors." + registry
            + ": must be a non-empty list of endpoints");
      }
      List<Mirror> endpoints = new java.util.ArrayList<>();
      for (JsonNode e : list) {
        String text = e.asText().trim();
        boolean http = text.startsWith("http://");
        String host = text.replaceFirst("^https?://", "").replaceFirst("/+$", "");
        if (host.isEmpty() || host.contains("/") || !e.isTextual()) {
          throw new ConfigException("config key pull_config.mirrors." + registry + ": '" + text
              + "' is not an endpoint such as http://10.0.0.5:5000 or mirror.example.com");
        }
        endpoints.add(new Mirror(host, http));
      }
      out.put(registry, List.copyOf(endpoints));
    }
    return out;
  }

  /** A Go-style duration ({@code 90s}, {@code 10m}, {@code 1h30m}) or a number of seconds. */
  private static Duration duration(JsonNode node, String key, String fullKey, Duration def) {
    JsonNode v = node.path(key);
    if (v.isMissingNode() || v.isNull()) {
      return def;
    }
    String text = v.asText().trim();
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("(\\d+)(ms|h|m|s)").matcher(text);
    if (text.matches("\\d+")) {
      return Duration.ofSeconds(Long.parseLong(text));
    }
    Duration d = Duration.ZERO;
    int end = 0;
    while (m.find() && m.start() == end) {
      long n = Long.parseLong(m.group(1));
      d = d.plus(switch (m.group(2)) {
        case "h" -> Duration.ofHours(n);
        case "m" -> Duration.ofMinutes(n);
        case "s" -> Duration.ofSeconds(n);
        default -> Duration.ofMillis(n);
      });
      end = m.end();
    }
    if (end != text.length() || end == 0 || d.isZero()) {
      throw new ConfigException("config key " + fullKey + ": '" + text
          + "' is not a duration such as 90s, 10m or 1h");
    }
    return d;
  }

  private CacheConfig cacheConfig(JsonNode node, Path rootDir) {
    requireMapping(node, "cache");
    Path dir = absolute("cache.dir", string(node, "dir", "cache.dir",
        rootDir.resolve("store").toString()));
    long max = size(node, "max_size", "cache.max_size", 0);
    int high = percent(node, "high_watermark", 85);
    int low = percent(node, "low_watermark", 70);
    if (low > high) {
      throw new ConfigException("config key cache.low_watermark: " + low
          + " must not be above cache.high_watermark " + high);
    }
    return new CacheConfig(dir, max, high, low);
  }

  /** A byte count: a number, or a human size such as {@code 500GB} or {@code 10TiB}. */
  private static long size(JsonNode node, String key, String fullKey, long def) {
    JsonNode v = node.path(key);
    if (v.isMissingNode() || v.isNull()) {
      return def;
    }
    try {
      return v.isNumber() ? v.asLong() : ByteSize.parse(v.asText());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("config key " + fullKey + ": " + e.getMessage());
    }
  }

  private static int percent(JsonNode node, String key, int def) {
    JsonNode v = node.path(key);
    String text = v.isMissingNode() || v.isNull() ? null : v.asText().trim();
    if (text == null) {
      return def;
    }
    String digits = text.endsWith("%") ? text.substring(0, text.length() - 1).trim() : text;
    if (!digits.matches("\\d{1,3}") || Integer.parseInt(digits) > 100) {
      throw new ConfigException("config key cache." + key + ": must be a percentage 0-100, got '"
          + text + "'");
    }
    return Integer.parseInt(digits);
  }

  private Features features(JsonNode node) {
    requireMapping(node, "features");
    boolean check = bool(node, "check_disk_quota", "features.check_disk_quota", false);
    return new Features(check,
        size(node, "disk_usage_limit", "features.disk_usage_limit", 0));
  }

  private void reportUnknownKeys(JsonNode node, String prefix) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      String key = prefix.isEmpty() ? name : prefix + "." + name;
      if (ACCEPTED_UNUSED.contains(key)) {
        log.warn("config key {} is accepted for compatibility but not used by this driver", key);
      } else if (!KNOWN.contains(key)) {
        log.warn("config key {} is unknown and ignored", key);
      } else if (node.get(name) instanceof ObjectNode child) {
        reportUnknownKeys(child, key);
      }
    }
  }

  private static void requireMapping(JsonNode node, String key) {
    if (!(node instanceof MissingNode) && !node.isNull() && !node.isObject()) {
      throw new ConfigException("config key " + key + ": must be a mapping");
    }
  }

  private static String string(JsonNode node, String key, String def) {
    return string(node, key, key, def);
  }

  private static String string(JsonNode node, String key, String fullKey, String def) {
    JsonNode v = node.path(key);
    if (v.isMissingNode() || v.isNull()) {
      return def;
    }
    if (!v.isValueNode()) {
      throw new ConfigException("config key " + fullKey + ": must be a string");
    }
    String s = v.asText().trim();
    return s.isEmpty() ? def : s;
  }

  private static int integer(JsonNode node, String key, String fullKey, int def) {
    JsonNode v = node.path(key);
    if (v.isMissingNode() || v.isNull()) {
      return def;
    }
    if (v.isIntegralNumber() && v.canConvertToInt()) {
      return v.asInt();
    }
    if (v.isTextual() && v.asText().trim().matches("-?\\d{1,9}")) {
      return Integer.parseInt(v.asText().trim());
    }
    throw new ConfigException("config key " + fullKey + ": must be an integer, got '"
        + v.asText() + "'");
  }

  private static boolean bool(JsonNode node, String key, String fullKey, boolean def) {
    JsonNode v = node.path(key);
    if (v.isMissingNode() || v.isNull()) {
      return def;
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    String s = v.asText().trim().toLowerCase();
    if (s.equals("true") || s.equals("false")) {
      return Boolean.parseBoolean(s);
    }
    throw new ConfigException("config key " + fullKey + ": must be true or false, got '"
        + v.asText() + "'");
  }

  private Path absolute(String key, String value) {
    try {
      return workingDir.resolve(value).normalize();
    } catch (RuntimeException e) {
      throw new ConfigException("config key " + key + ": '" + value + "' is not a valid path");
    }
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
