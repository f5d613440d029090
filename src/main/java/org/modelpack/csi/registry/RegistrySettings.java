package org.modelpack.csi.registry;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.modelpack.csi.config.PullConfig;

/**
 * How to reach registries.
 *
 * @param dockerConfigDir directory holding {@code config.json}; null = no credentials
 * @param plainHttpHosts hosts ({@code host} or {@code host:port}) to talk to over plain HTTP
 * @param proxyUrl {@code http://host:port} of an HTTP proxy, or null
 * @param connectTimeout TCP/TLS connect timeout
 * @param userAgent sent on every request
 * @param retry retries and backoff of idempotent requests (null = {@link RetryPolicy#defaults})
 * @param stallTimeout a transfer (or an answer) with no byte arriving for this long is aborted
 *     and retried, resuming where it stopped; there is no total deadline
 * @param parallelThreshold blobs larger than this many bytes are fetched as several ranges at
 *     once; 0 = never
 * @param parallelConnections ranges (connections) per large blob at most: a download starts with
 *     one and adds more only while they add throughput (decision 1211)
 */
public record RegistrySettings(Path dockerConfigDir, Set<String> plainHttpHosts, String proxyUrl,
    Duration connectTimeout, String userAgent, RetryPolicy retry, Duration stallTimeout,
    long parallelThreshold, int parallelConnections) {

  // No configuration key sets these two; the others' defaults are the configuration's (0930).
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);
  public static final String DEFAULT_USER_AGENT = "modelpack-csi-driver";
  private static final Pattern IPV4_LOOPBACK =
      Pattern.compile("127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");

  public RegistrySettings {
    plainHttpHosts = plainHttpHosts == null ? Set.of()
        : plainHttpHosts.stream().map(h -> h.toLowerCase(Locale.ROOT))
            .collect(Collectors.toUnmodifiableSet());
    connectTimeout = connectTimeout == null ? DEFAULT_CONNECT_TIMEOUT : connectTimeout;
    userAgent = userAgent == null || userAgent.isBlank() ? DEFAULT_USER_AGENT : userAgent;
    retry = retry == null ? RetryPolicy.defaults() : retry;
    stallTimeout = stallTimeout == null ? PullConfig.DEFAULT_STALL_TIMEOUT : stallTimeout;
    if (stallTimeout.isNegative() || stallTimeout.isZero()
        || stallTimeout.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("stall timeout must be between 1 ms and 24 days, got "
          + stallTimeout);
    }
    if (parallelThreshold < 0) {
      throw new IllegalArgumentException("parallel download threshold must be 0 (off) or more");
    }
    if (parallelConnections < 1) {
      throw new IllegalArgumentException("parallel download connections must be at least 1");
    }
    if (proxyUrl != null && !proxyUrl.isBlank()) {
      proxyAddress(proxyUrl); // validate early so a typo fails at startup, not at first pull
    } else {
      proxyUrl = null;
    }
  }

  /** Default retry, stall and parallel-download settings. */
  public RegistrySettings(Path dockerConfigDir, Set<String> plainHttpHosts, String proxyUrl,
      Duration connectTimeout, String userAgent) {
    this(dockerConfigDir, plainHttpHosts, proxyUrl, connectTimeout, userAgent, null, null,
        PullConfig.DEFAULT_PARALLEL_DOWNLOAD_THRESHOLD,
        PullConfig.DEFAULT_PARALLEL_DOWNLOAD_CONNECTIONS);
  }

  public static RegistrySettings defaults() {
    return new RegistrySettings(null, Set.of(), null, null, null);
  }

  public RegistrySettings withDockerConfigDir(Path dir) {
    return new RegistrySettings(dir, plainHttpHosts, proxyUrl, connectTimeout, userAgent, retry,
        stallTimeout, parallelThreshold, parallelConnections);
  }

  public RegistrySettings withRetry(RetryPolicy policy) {
    return new RegistrySettings(dockerConfigDir, plainHttpHosts, proxyUrl, connectTimeout,
        userAgent, policy, stallTimeout, parallelThreshold, parallelConnections);
  }

  public RegistrySettings withStallTimeout(Duration timeout) {
    return new RegistrySettings(dockerConfigDir, plainHttpHosts, proxyUrl, connectTimeout,
        userAgent, retry, timeout, parallelThreshold, parallelConnections);
  }

  /** {@code threshold} 0 turns parallel ranged downloads off. */
  public RegistrySettings withParallelDownload(long threshold, int connections) {
    return new RegistrySettings(dockerConfigDir, plainHttpHosts, proxyUrl, connectTimeout,
        userAgent, retry, stallTimeout, threshold, connections);
  }

  /**
   * True when {@code hostAndPort} is listed in {@link #plainHttpHosts} (with or without its
   * port) or is a loopback address. The docker config's {@code serverscheme} is checked
   * separately by the client because it needs the config file.
   */
  public boolean plainHttpConfigured(String hostAndPort) {
    String hp = hostAndPort.toLowerCase(Locale.ROOT);
    return plainHttpHosts.contains(hp) || plainHttpHosts.contains(hostOnly(hp))
        || isLoopback(hostOnly(hp));
  }

  /** Loopback by name or literal only; no DNS lookups (they could be slow or spoofed). */
  static boolean isLoopback(String host) {
    String h = host.startsWith("[") && host.endsWith("]")
        ? host.substring(1, host.length() - 1) : host;
    if (h.equals("localhost") || IPV4_LOOPBACK.matcher(h).matches()) {
      return true;
    }
    if (h.contains(":") && h.matches("[0-9a-fA-F:.]+")) {
      try {
        return java.net.InetAddress.getByName(h).isLoopbackAddress(); // literal: no lookup
      } catch (java.net.UnknownHostException e) {
        return false;
      }
    }
    return false;
  }

  /** {@code host:port} → {@code host}, {@code [::1]:5000} → {@code [::1]}. */
  static String hostOnly(String hostAndPort) {
    if (hostAndPort.startsWith("[")) {
      int end = hostAndPort.indexOf(']');
      return end < 0 ? hostAndPort : hostAndPort.substring(0, end + 1);
    }
    int colon = hostAndPort.indexOf(':');
    return colon < 0 ? hostAndPort : hostAndPort.substring(0, colon);
  }

  /** The proxy as a socket address, or null when none is configured. */
  public InetSocketAddress proxyAddress() {
    return proxyUrl == null ? null : proxyAddress(proxyUrl);
  }

  private static InetSocketAddress proxyAddress(String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("proxy URL '" + url + "' is not a URL", e);
    }
    if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null
        || uri.getPort() <= 0) {
      throw new IllegalArgumentException("proxy URL '" + url + "' must be http://host:port");
    }
    return InetSocketAddress.createUnresolved(uri.getHost(), uri.getPort());
  }
}
