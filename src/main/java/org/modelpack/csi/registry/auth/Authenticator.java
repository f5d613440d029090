package org.modelpack.csi.registry.auth;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.modelpack.csi.registry.RegistryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns 401 challenges into {@code Authorization} header values and remembers them.
 *
 * <p>Tokens are cached per (registry, requested scopes) until shortly before they expire, and a
 * registry that asked for Basic once gets Basic proactively afterwards, so a model with hundreds
 * of layers costs one token round trip, not one per blob. Thread-safe: concurrent downloads may
 * race to fetch the same token, which is harmless (last one wins). Header values are secrets and
 * never appear in logs or exception messages.
 */
public final class Authenticator {
  private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);
  private static final Set<Integer> OAUTH_FALLBACK_STATUSES = Set.of(400, 401, 404, 405);
  private static final String TOKEN_USERNAME = "<token>";

  private record TokenKey(String registry, Set<String> scopes) { }

  private record CachedToken(String header, Instant expiresAt) { }

  private final CredentialStore credentials;
  private final TokenEndpoint endpoint;
  private final Clock clock;
  private final Map<TokenKey, CachedToken> tokens = new ConcurrentHashMap<>();
  private final Map<String, String> basicByRegistry = new ConcurrentHashMap<>();

  public Authenticator(CredentialStore credentials, TokenEndpoint endpoint, Clock clock) {
    this.credentials = credentials;
    this.endpoint = endpoint;
    this.clock = clock;
  }

  /** A header value to send without waiting for a 401, or null. */
  public String cachedAuthorization(String registry, List<String> scopes) {
    String basic = basicByRegistry.get(registry);
    if (basic != null) {
      return basic;
    }
    TokenKey key = new TokenKey(registry, new TreeSet<>(scopes));
    CachedToken t = tokens.get(key);
    if (t == null) {
      return null;
    }
    if (!clock.instant().isBefore(t.expiresAt())) {
      tokens.remove(key, t);
      return null;
    }
    return t.header();
  }

  /**
   * Runs one auth round for {@code challenge} and returns the header value to retry with.
   *
   * @param registry the reference's registry (credential lookup and cache key)
   * @param scopes the scopes this request needs, e.g. {@code repository:ns/model:pull}
   */
  public String authorize(String registry, AuthChallenge challenge, List<String> scopes)
      throws RegistryException {
    Credentials creds = credentials.lookup(registry);
    if (challenge.isBasic()) {
      if (!creds.hasBasic()) {
        throw new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
            "registry " + registry + " requires Basic credentials and none are configured");
      }
      String header = basic(creds.username(), creds.password());
      basicByRegistry.put(registry, header);
      return header;
    }
    if (!challenge.isBearer()) {
      throw new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
          "registry " + registry + " asks for unsupported auth scheme '" + challenge.scheme()
              + "'");
    }
    if (creds.hasRegistryToken()) {
      // A ready-made bearer token: nothing to exchange, and no expiry to cache by.
      return "Bearer " + creds.registryToken();
    }
    URI realm = realm(registry, challenge);
    Set<String> allScopes = new TreeSet<>(scopes);
    allScopes.addAll(challenge.scopes());
    List<String> scopeList = List.copyOf(allScopes);
    TokenEndpoint.Answer answer = creds.hasIdentityToken()
        ? refreshTokenFlow(realm, challenge.service(), scopeList, creds)
        : endpoint.get(realm, challenge.service(), scopeList,
            creds.hasBasic() ? basic(creds.username(), creds.password()) : null);
    if (answer.token() == null) {
      throw new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
          "token server " + realm.getHost() + " refused a token for " + registry + " "
              + scopeList + " (" + answer.status() + ", "
              + (creds.isAnonymous() ? "anonymous" : "with credentials") + ")");
    }
    String header = "Bearer " + answer.token();
    long lifetime = answer.expiresInSeconds();
    // Renew a little early so a token does not expire between the check and the request.
    long margin = Math.min(10, lifetime / 10);
    Instant expiresAt = clock.instant().plus(Duration.ofSeconds(lifetime - margin));
    tokens.put(new TokenKey(registry, new TreeSet<>(scopes)), new CachedToken(header, expiresAt));
    LOG.debug("obtained token for {} {} valid {}s", registry, scopeList, lifetime);
    return header;
  }

  private TokenEndpoint.Answer refreshTokenFlow(URI realm, String service, List<String> scopes,
      Credentials creds) throws RegistryException {
    Map<String, String> form = new java.util.LinkedHashMap<>();
    form.put("grant_type", "refresh_token");
    form.put("refresh_token", creds.identityToken());
    if (service != null) {
      form.put("service", service);
    }
    form.put("scope", String.join(" ", scopes));
    TokenEndpoint.Answer a = endpoint.post(realm, form);
    if (a.token() != null || !OAUTH_FALLBACK_STATUSES.contains(a.status())) {
      return a;
    }
    // Harbor and others do not implement the POST flow: fall back like containerd does.
    LOG.debug("OAuth2 POST to {} answered {}, falling back to GET", realm.getHost(), a.status());
    String user = creds.username() != null ? creds.username() : TOKEN_USERNAME;
    return endpoint.get(realm, service, scopes, basic(user, creds.identityToken()));
  }

  private static URI realm(String registry, AuthChallenge challenge) throws RegistryException {
    String realm = challenge.realm();
    try {
      URI uri = realm == null ? null : new URI(realm);
      if (uri != null && ("https".equalsIgnoreCase(uri.getScheme())
          || "http".equalsIgnoreCase(uri.getScheme())) && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    throw new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
        "registry " + registry + " sent a Bearer challenge without a usable realm URL");
  }

  static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder()
        .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
