package org.modelpack.csi.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One mapping of the configuration ({@code pull_config}, {@code cache}, … or the top level) and
 * typed reads of its keys. An absent or null key gives the default; a value of the wrong type
 * or form fails naming the full key ({@code pull_config.concurrency}), which is what a user
 * searches the file for.
 */
final class ConfigSection {
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|h|m|s)");

  private final JsonNode node;
  private final String prefix;

  private ConfigSection(JsonNode node, String prefix) {
    this.node = node;
    this.prefix = prefix;
  }

  static ConfigSection root(JsonNode tree) {
    return new ConfigSection(tree, "");
  }

  /** The mapping at {@code key}; absent or null reads as empty. */
  ConfigSection section(String key) {
    JsonNode child = node.path(key);
    if (!(child instanceof MissingNode) && !child.isNull() && !child.isObject()) {
      throw new ConfigException("config key " + fullKey(key) + ": must be a mapping");
    }
    return new ConfigSection(child, fullKey(key));
  }

  /** The raw value at {@code key}, a missing node when absent; for lists and mappings. */
  JsonNode value(String key) {
    return node.path(key);
  }

  String fullKey(String key) {
    return prefix.isEmpty() ? key : prefix + "." + key;
  }

  /** A scalar as trimmed text; blank reads as absent. */
  String string(String key, String def) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return def;
    }
    if (!v.isValueNode()) {
      throw new ConfigException("config key " + fullKey(key) + ": must be a string");
    }
    String s = v.asText().trim();
    return s.isEmpty() ? def : s;
  }

  /** A path; a relative one is resolved against {@code workingDir}. */
  Path path(String key, String def, Path workingDir) {
    String value = string(key, def);
    try {
      return workingDir.resolve(value).normalize();
    } catch (RuntimeException e) {
      throw new ConfigException("config key " + fullKey(key) + ": '" + value
          + "' is not a valid path");
    }
  }

  /** A number, or text of one (YAML users quote numbers). */
  int integer(String key, int def) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return def;
    }
    if (v.isIntegralNumber() && v.canConvertToInt()) {
      return v.asInt();
    }
    if (v.isTextual() && v.asText().trim().matches("-?\\d{1,9}")) {
      return Integer.parseInt(v.asText().trim());
    }
    throw new ConfigException("config key " + fullKey(key) + ": must be an integer, got '"
        + v.asText() + "'");
  }

  boolean bool(String key, boolean def) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return def;
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    String s = v.asText().trim().toLowerCase();
    if (s.equals("true") || s.equals("false")) {
      return Boolean.parseBoolean(s);
    }
    throw new ConfigException("config key " + fullKey(key) + ": must be true or false, got '"
        + v.asText() + "'");
  }

  /** A byte count: a number, or a human size such as {@code 500GB} or {@code 10TiB}. */
  long size(String key, long def) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return def;
    }
    try {
      return v.isNumber() ? v.asLong() : ByteSize.parse(v.asText());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("config key " + fullKey(key) + ": " + e.getMessage());
    }
  }

  /** {@code 0}-{@code 100}, with or without a {@code %}. */
  int percent(String key, int def) {
    JsonNode v = node.path(key);
    String text = absent(v) ? null : v.asText().trim();
    if (text == null) {
      return def;
    }
    String digits = text.endsWith("%") ? text.substring(0, text.length() - 1).trim() : text;
    if (!digits.matches("\\d{1,3}") || Integer.parseInt(digits) > 100) {
      throw new ConfigException("config key " + fullKey(key)
          + ": must be a percentage 0-100, got '" + text + "'");
    }
    return Integer.parseInt(digits);
  }

  /** A Go-style duration ({@code 90s}, {@code 10m}, {@code 1h30m}) or a number of seconds. */
  Duration duration(String key, Duration def) {
    JsonNode v = node.path(key);
    if (absent(v)) {
      return def;
    }
    String text = v.asText().trim();
    if (text.matches("\\d+")) {
      return Duration.ofSeconds(Long.parseLong(text));
    }
    Matcher m = DURATION_PART.matcher(text);
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
      throw new ConfigException("config key " + fullKey(key) + ": '" + text
          + "' is not a duration such as 90s, 10m or 1h");
    }
    return d;
  }

  /** Fails unless {@code ok}, as {@code config key K: must be RULE, got VALUE}. */
  void require(boolean ok, String key, String rule, Object got) {
    if (!ok) {
      throw new ConfigException("config key " + fullKey(key) + ": must be " + rule + ", got "
          + got);
    }
  }

  private static boolean absent(JsonNode v) {
    return v.isMissingNode() || v.isNull();
  }
}
