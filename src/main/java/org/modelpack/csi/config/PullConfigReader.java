package org.modelpack.csi.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads and checks {@code pull_config}: how models are fetched from registries. */
final class PullConfigReader {
  private PullConfigReader() {}

  /**
   * @param pull the {@code pull_config} section
   * @param defaultDockerDir where credentials are looked for unless the key says otherwise
   */
  static PullConfig read(ConfigSection pull, Path workingDir, String defaultDockerDir) {
    Path dockerDir = pull.path("docker_config_dir", defaultDockerDir, workingDir);
    int concurrency = pull.integer("concurrency", PullConfig.DEFAULT_CONCURRENCY);
    pull.require(concurrency >= 1, "concurrency", "at least 1", concurrency);
    String proxy = proxyUrl(pull.string("proxy_url", null));
    Set<String> plain = plainHttpRegistries(pull.value("plain_http_registries"));
    int nodeLayers = pull.integer("node_layer_concurrency",
        PullConfig.DEFAULT_NODE_LAYER_CONCURRENCY);
    pull.require(nodeLayers >= 0, "node_layer_concurrency", "0 (unlimited) or more",
        nodeLayers);
    int wait = pull.integer("publish_wait_seconds",
        (int) PullConfig.DEFAULT_PUBLISH_WAIT.toSeconds());
    pull.require(wait >= 0 && wait <= 110, "publish_wait_seconds",
        "0-110 (kubelet abandons a call after 120 s)", wait);
    Duration orphan = pull.duration("orphan_timeout", PullConfig.DEFAULT_ORPHAN_TIMEOUT);
    int attempts = pull.integer("retry_attempts", PullConfig.DEFAULT_RETRY_ATTEMPTS);
    pull.require(attempts >= 1 && attempts <= 100, "retry_attempts", "1-100 (1 = no retries)",
        attempts);
    Duration initial = pull.duration("retry_initial_backoff",
        PullConfig.DEFAULT_RETRY_INITIAL_BACKOFF);
    // A longer initial backoff alone raises the default maximum with it instead of failing.
    Duration maxBackoff = pull.duration("retry_max_backoff",
        PullConfig.DEFAULT_RETRY_MAX_BACKOFF.compareTo(initial) < 0 ? initial
            : PullConfig.DEFAULT_RETRY_MAX_BACKOFF);
    if (maxBackoff.compareTo(initial) < 0) {
      throw new ConfigException("config key pull_config.retry_max_backoff: " + maxBackoff
          .toMillis() + " ms must not be shorter than pull_config.retry_initial_backoff "
          + initial.toMillis() + " ms");
    }
    Duration stall = pull.duration("stall_timeout", PullConfig.DEFAULT_STALL_TIMEOUT);
    pull.require(stall.compareTo(Duration.ofDays(1)) <= 0, "stall_timeout", "at most 24h", stall);
    long threshold = pull.size("parallel_download_threshold",
        PullConfig.DEFAULT_PARALLEL_DOWNLOAD_THRESHOLD);
    pull.require(threshold >= 0, "parallel_download_threshold", "0 (off) or a size", threshold);
    int connections = pull.integer("parallel_download_connections",
        PullConfig.DEFAULT_PARALLEL_DOWNLOAD_CONNECTIONS);
    pull.require(connections >= 1 && connections <= PullConfig.MAX_PARALLEL_DOWNLOAD_CONNECTIONS,
        "parallel_download_connections", "1-" + PullConfig.MAX_PARALLEL_DOWNLOAD_CONNECTIONS,
        connections);
    int ratio = pull.integer("max_expansion_ratio", PullConfig.DEFAULT_MAX_EXPANSION_RATIO);
    pull.require(ratio >= 0, "max_expansion_ratio", "0 (no ratio bound) or more", ratio);
    Map<String, List<Mirror>> mirrors = mirrors(pull.value("mirrors"));
    // A mirror named http:// is reached over plain HTTP like a listed registry.
    mirrors.values().forEach(list -> list.stream().filter(Mirror::plainHttp)
        .forEach(m -> plain.add(m.host())));
    return new PullConfig(dockerDir, concurrency, proxy, plain, nodeLayers,
        Duration.ofSeconds(wait), orphan, attempts, initial, maxBackoff, stall, threshold,
        connections, mirrors, ratio);
  }

  private static String proxyUrl(String proxy) {
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
    return proxy;
  }

  private static Set<String> plainHttpRegistries(JsonNode hosts) {
    Set<String> plain = new LinkedHashSet<>();
    if (!hosts.isMissingNode() && !hosts.isNull()) {
      if (!hosts.isArray()) {
        throw new ConfigException(
            "config key pull_config.plain_http_registries: must be a list of host[:port]");
      }
      hosts.forEach(h -> plain.add(h.asText().trim()));
    }
    return plain;
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
    Map<String, List<Mirror>> out = new LinkedHashMap<>();
    Iterator<String> hosts = node.fieldNames();
    while (hosts.hasNext()) {
      String registry = hosts.next();
      JsonNode list = node.get(registry);
      if (!list.isArray() || list.isEmpty()) {
        throw new ConfigException("config key pull_config.mirrors." + registry
            + ": must be a non-empty list of endpoints");
      }
      List<Mirror> endpoints = new ArrayList<>();
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
}
