package org.modelpack.csi.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;

/**
 * Where the metrics server listens, read from {@code metrics_addr} ({@code tcp://host:port}) as
 * the Go driver reads it: {@code $POD_IP} stands for the pod's address, or for every address
 * ({@code 0.0.0.0}) when {@code POD_IP} is unset; with {@code POD_IP} set, a second listener on
 * {@code 127.0.0.1} lets a probe or a sidecar in the pod scrape without knowing the pod's IP.
 *
 * @param listeners host and port pairs, empty when metrics are off
 */
public record MetricsAddress(List<Listener> listeners) {
  public static final MetricsAddress NONE = new MetricsAddress(List.of());
  private static final String POD_IP = "$POD_IP";
  private static final String LOOPBACK = "127.0.0.1";

  /** One address to listen on; {@code host} is a literal or a name, never a placeholder. */
  public record Listener(String host, int port) {
    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  public MetricsAddress {
    listeners = List.copyOf(listeners);
  }

  public boolean enabled() {
    return !listeners.isEmpty();
  }

  /**
   * Reads {@code value} (null or blank: metrics off) with {@code podIp} from the environment
   * (null when unset).
   *
   * @throws ConfigException when it is not {@code tcp://host:port}
   */
  public static MetricsAddress parse(String value, String podIp) {
    if (value == null || value.isBlank()) {
      return NONE;
    }
    boolean hasPodIp = podIp != null && !podIp.isBlank();
    String resolved = value.trim().replace(POD_IP, hasPodIp ? hostLiteral(podIp.trim()) : "0.0.0.0");
    Listener main = listener(value, resolved);
    if (hasPodIp && !isLoopbackOrWildcard(main.host())) {
      return new MetricsAddress(List.of(main, new Listener(LOOPBACK, main.port())));
    }
    return new MetricsAddress(List.of(main));
  }

  private static Listener listener(String original, String resolved) {
    URI uri;
    try {
      uri = new URI(resolved);
    } catch (URISyntaxException e) {
      throw invalid(original, "not a URL");
    }
    if (!"tcp".equals(uri.getScheme())) {
      throw invalid(original, "the scheme must be tcp");
    }
    if (uri.getHost() == null) {
      throw invalid(original, "no host");
    }
    if (uri.getPort() < 1 || uri.getPort() > 65535) {
      throw invalid(original, "a port (1-65535) is required");
    }
    if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
        || uri.getRawQuery() != null || uri.getRawFragment() != null
        || uri.getRawUserInfo() != null) {
      throw invalid(original, "only tcp://host:port is allowed");
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new Listener(host, uri.getPort());
  }

  /** An IPv6 address goes in brackets inside a URL. */
  private static String hostLiteral(String ip) {
    return ip.contains(":") && !ip.startsWith("[") ? "[" + ip + "]" : ip;
  }

  /** A second bind on 127.0.0.1 would clash with these (or add nothing). */
  private static boolean isLoopbackOrWildcard(String host) {
    return host.equals(LOOPBACK) || host.equals("localhost") || host.equals("0.0.0.0")
        || host.equals("::") || host.equals("::1");
  }

  private static ConfigException invalid(String value, String why) {
    return new ConfigException("config key metrics_addr: '" + value + "' " + why
        + " (expected tcp://host:port, e.g. tcp://$POD_IP:5244)");
  }
}
