package org.modelpack.csi.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.modelpack.csi.registry.auth.AuthChallenge;
import org.modelpack.csi.registry.auth.Authenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one logical registry request: adds cached auth, answers one 401 with an auth round,
 * follows redirects by hand and retries idempotent requests a few times on transient failures.
 *
 * <p>Redirects are followed manually (the JDK client runs with {@code Redirect.NEVER}) because
 * the distribution spec forbids forwarding {@code Authorization} to another host: presigned
 * storage URLs reject it and it would leak the token to a third party.
 */
final class RegistryTransport {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryTransport.class);
  private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
  private static final int MAX_REDIRECTS = 5;
  /** Immediate retries only; backoff is deliberately left to a later, separate layer. */
  private static final int MAX_ATTEMPTS = 3;
  /** Time to get response headers; body streaming is not limited by it. */
  private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);

  /**
   * One request.
   *
   * @param registry credential/auth-cache key (the reference's registry)
   * @param subject names the request in messages, e.g. {@code manifest host/repo:tag}
   * @param body a replayable publisher (it may be sent twice: before and after auth)
   * @param idempotent allows retries and redirects (GET/HEAD)
   */
  record Call(String method, URI uri, String registry, List<String> scopes,
      Map<String, String> headers, HttpRequest.BodyPublisher body, boolean idempotent,
      String subject) {
    Call {
      headers = Map.copyOf(headers);
      scopes = List.copyOf(scopes);
    }
  }

  private final HttpClient http;
  private final Authenticator auth;
  private final String userAgent;

  RegistryTransport(HttpClient http, Authenticator auth, String userAgent) {
    this.http = http;
    this.auth = auth;
    this.userAgent = userAgent;
  }

  /**
   * The final response with its body still open; the caller must close it. Non-2xx statuses are
   * returned, not thrown, so the caller can map them with the right subject; only transport
   * failures (after retries) and auth-round failures throw.
   */
  HttpResponse<InputStream> send(Call call) throws RegistryException {
    String authorization = auth.cachedAuthorization(call.registry(), call.scopes());
    boolean authTried = false;
    int attempt = 0;
    while (true) {
      attempt++;
      Exchange ex;
      try {
        ex = sendFollowingRedirects(call, authorization);
      } catch (RegistryException e) {
        throw e;
      } catch (IOException e) {
        if (call.idempotent() && attempt < MAX_ATTEMPTS) {
          LOG.debug("{}: attempt {} failed ({}), retrying", call.subject(), attempt, e.toString());
          continue;
        }
        throw new RegistryException(RegistryException.Kind.UNAVAILABLE,
            call.subject() + " unavailable: cannot reach " + call.uri().getAuthority() + " ("
                + e + ")", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryException(RegistryException.Kind.UNAVAILABLE,
            call.subject() + ": interrupted", e);
      }
      HttpResponse<InputStream> resp = ex.response();
      int status = resp.statusCode();
      if (status == 401 && !authTried && ex.onRegistryHost()) {
        AuthChallenge challenge =
            AuthChallenge.pick(resp.headers().allValues("WWW-Authenticate"));
        if (challenge == null) {
          return resp;
        }
        closeQuietly(resp);
        try {
          authorization = auth.authorize(call.registry(), challenge, call.scopes());
        } catch (RegistryException e) {
          // Say which request needed the auth; the auth message itself holds no secrets.
          throw new RegistryException(e.kind(), call.subject() + ": " + e.getMessage(), e);
        }
        authTried = true;
        attempt--; // an auth round is not a failed attempt
        continue;
      }
      if ((status >= 500 || status == 429) && call.idempotent() && attempt < MAX_ATTEMPTS) {
        LOG.debug("{}: attempt {} got {}, retrying", call.subject(), attempt, status);
        closeQuietly(resp);
        continue;
      }
      return resp;
    }
  }

  private record Exchange(HttpResponse<InputStream> response, boolean onRegistryHost) { }

  private Exchange sendFollowingRedirects(Call call, String authorization)
      throws IOException, InterruptedException {
    URI uri = call.uri();
    String registryAuthority = call.uri().getAuthority();
    for (int hop = 0; ; hop++) {
      boolean sameHost = Objects.equals(uri.getAuthority(), registryAuthority)
          && Objects.equals(uri.getScheme(), call.uri().getScheme());
      HttpRequest.Builder b = HttpRequest.newBuilder(uri)
          .timeout(RESPONSE_TIMEOUT)
          .header("User-Agent", userAgent)
          .method(call.method(), call.body());
      if ("http".equals(uri.getScheme())) {
        b.version(HttpClient.Version.HTTP_1_1); // no h2c upgrade dance with plain registries
      }
      call.headers().forEach(b::header);
      if (authorization != null && sameHost) {
        b.header("Authorization", authorization);
      }
      LOG.debug("{} {}", call.method(), uri);
      HttpResponse<InputStream> resp = http.send(b.build(),
          HttpResponse.BodyHandlers.ofInputStream());
      if (!call.idempotent() || !REDIRECTS.contains(resp.statusCode())) {
        return new Exchange(resp, sameHost);
      }
      String location = resp.headers().firstValue("Location").orElse(null);
      if (location == null) {
        return new Exchange(resp, sameHost);
      }
      closeQuietly(resp);
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryException(RegistryException.Kind.INVALID_CONTENT,
            call.subject() + ": more than " + MAX_REDIRECTS + " redirects");
      }
      uri = uri.resolve(location);
    }
  }

  static byte[] readCapped(HttpResponse<InputStream> resp, int max) throws IOException {
    try (InputStream in = resp.body()) {
      return in.readNBytes(max);
    }
  }

  static void closeQuietly(HttpResponse<InputStream> resp) {
    try {
      resp.body().close();
    } catch (IOException e) {
      // nothing useful to do: the connection is discarded either way
    }
  }
}
