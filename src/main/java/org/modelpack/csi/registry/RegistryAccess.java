package org.modelpack.csi.registry;

import java.net.Proxy;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.registry.auth.Authenticator;
import org.modelpack.csi.registry.auth.CredentialStore;
import org.modelpack.csi.registry.auth.DockerConfigCredentials;
import org.modelpack.csi.registry.auth.HttpTokenEndpoint;

/**
 * What every protocol step needs to reach a registry: the settings, whose credentials are
 * presented, the client's threads, the transport built from them, and a repository's API URL.
 * Immutable but for caches (tokens, the scheme per registry); a variant with other credentials
 * or no retries shares the settings, threads and HTTP client of the one it comes from but keeps
 * caches of its own, and only the access that created the threads releases them.
 */
final class RegistryAccess implements AutoCloseable {
  private final RegistrySettings settings;
  private final DockerConfigCredentials nodeCredentials;
  private final CredentialStore credentials;
  private final Sleeper sleeper;
  private final ExecutorService executor;
  private final boolean ownsExecutor;
  private final HttpClient http;
  private final RegistryTransport transport;
  /** Shared by the accesses derived from this one (other credentials, no retries). */
  private final RegistryStats stats;
  private final Map<String, String> schemeByRegistry = new ConcurrentHashMap<>();

  private RegistryAccess(RegistrySettings settings, DockerConfigCredentials nodeCredentials,
      CredentialStore credentials, Sleeper sleeper, ExecutorService executor, HttpClient http,
      boolean ownsExecutor, RegistryStats stats) {
    this.settings = settings;
    this.stats = stats;
    this.nodeCredentials = nodeCredentials;
    this.credentials = credentials;
    this.sleeper = sleeper;
    this.executor = executor;
    this.ownsExecutor = ownsExecutor;
    this.http = http;
    Authenticator auth = new Authenticator(credentials,
        new HttpTokenEndpoint(http, settings.userAgent()), Clock.systemUTC());
    this.transport = new RegistryTransport(auth, settings.userAgent(),
        settings.proxyAddress() == null ? null
            : new Proxy(Proxy.Type.HTTP, settings.proxyAddress()),
        settings.connectTimeout(), settings.stallTimeout(),
        new Retrier.Timing(settings.retry(), sleeper, Clock.systemUTC(),
            () -> ThreadLocalRandom.current().nextDouble(), stats));
  }

  /** Access with the node's credentials and threads of its own, released by {@link #close}. */
  static RegistryAccess create(RegistrySettings settings, DockerConfigCredentials nodeCredentials,
      Sleeper sleeper) {
    // Own executor so close() can release the client's threads (JDK 17 HttpClient has no close).
    ExecutorService executor =
        Executors.newCachedThreadPool(DaemonThreads.named("registry-http"));
    // The HttpClient only serves token requests; registry requests go through the transport.
    HttpClient.Builder http = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(settings.connectTimeout())
        .executor(executor);
    if (settings.proxyAddress() != null) {
      http.proxy(ProxySelector.of(settings.proxyAddress()));
    }
    return new RegistryAccess(settings, nodeCredentials, nodeCredentials, sleeper, executor,
        http.build(), true, new RegistryStats());
  }

  /** The same access authenticating with {@code credentials}. */
  RegistryAccess withCredentials(CredentialStore credentials) {
    return new RegistryAccess(settings, nodeCredentials, credentials, sleeper, executor, http,
        false, stats);
  }

  /** The same access making one attempt per request. */
  RegistryAccess withoutRetries() {
    RetryPolicy retry = settings.retry();
    return new RegistryAccess(settings.withRetry(new RetryPolicy(1, retry.initialBackoff(),
        retry.maxBackoff())), nodeCredentials, credentials, sleeper, executor, http, false,
        stats);
  }

  RegistrySettings settings() {
    return settings;
  }

  DockerConfigCredentials nodeCredentials() {
    return nodeCredentials;
  }

  /** The credentials this access presents (the node's, or a pod's). */
  CredentialStore credentials() {
    return credentials;
  }

  /** The client's threads, also for the parts of a parallel download. */
  ExecutorService executor() {
    return executor;
  }

  RegistryStats stats() {
    return stats;
  }

  RegistryTransport transport() {
    return transport;
  }

  /** {@code <scheme>://<api host>/v2/<repository><suffix>}. */
  URI url(Reference ref, String suffix) throws RegistryException {
    return URI.create(scheme(ref) + "://" + ref.apiHost() + "/v2/" + ref.repository() + suffix);
  }

  /** See docs/decisions/0102: loopback, configured hosts and serverscheme=http use HTTP. */
  private String scheme(Reference ref) throws RegistryException {
    String cached = schemeByRegistry.get(ref.registry());
    if (cached != null) {
      return cached;
    }
    boolean plain = settings.plainHttpConfigured(ref.apiHost())
        || settings.plainHttpConfigured(ref.registry())
        || nodeCredentials.serverScheme(ref.registry()).filter("http"::equals).isPresent();
    String scheme = plain ? "http" : "https";
    schemeByRegistry.put(ref.registry(), scheme);
    return scheme;
  }

  static List<String> pullScope(Reference ref) {
    return List.of("repository:" + ref.repository() + ":pull");
  }

  static List<String> pushScope(Reference ref) {
    return List.of("repository:" + ref.repository() + ":pull,push");
  }

  @Override
  public void close() {
    if (ownsExecutor) {
      executor.shutdownNow();
    }
  }
}
