package org.modelpack.csi.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys this driver knows. An unknown key is warned about, not refused: a Go driver's file
 * must keep working, and a typo should still be visible in the log.
 */
final class ConfigKeys {
  // The loader's logger: the name operators already filter on.
  private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);

  /** Keys of the Go driver this driver accepts but does not act on (yet). */
  private static final Set<String> ACCEPTED_UNUSED = Set.of(
      "external_csi_endpoint", "external_csi_authorization", "dynamic_csi_endpoint",
      "trace_endpoint", "pprof_addr", "log_level",
      "pull_config.dragonfly_endpoint", "pull_config.pull_layer_timeout_in_seconds");

  private static final Set<String> KNOWN = Set.of(
      "service_name", "root_dir", "csi_endpoint", "node_id", "metrics_addr", "mode",
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

  private ConfigKeys() {}

  /** Logs every key below {@code node} that is unknown or accepted but unused. */
  static void warnAboutUnused(JsonNode node) {
    warnAboutUnused(node, "");
  }

  private static void warnAboutUnused(JsonNode node, String prefix) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      String key = prefix.isEmpty() ? name : prefix + "." + name;
      if (ACCEPTED_UNUSED.contains(key)) {
        log.warn("config key {} is accepted for compatibility but not used by this driver", key);
      } else if (!KNOWN.contains(key)) {
        log.warn("config key {} is unknown and ignored", key);
      } else if (node.get(name) instanceof ObjectNode child) {
        warnAboutUnused(child, key);
      }
    }
  }
}
