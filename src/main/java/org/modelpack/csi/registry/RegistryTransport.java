package org.modelpack.csi.registry;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpRetryException;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.HashMap;
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
 * follows redirects by hand and retries idempotent requests with exponential backoff and jitter
 * on connection errors, 5xx and 429 (honouring {@code Retry-After}); 401, 403 and 404 are
 * answers, never retried (docs/decisions/0301).
 *
 * <p>Redirects are followed manually because the distribution spec forbids forwarding
 * {@code Authorization} to another host: presigned storage URLs reject it and it would leak the
 * token to a third party.
 *
 * <p>Requests go through {@link HttpURLConnection}, not {@code java.net.http.HttpClient}: for
 * multi-GB blob bodies the latter's reactive body pipeline measured several times slower (about
 * 300 MB/s against over 1 GB/s on loopback), which made it the bottleneck of a cold pull.
 */
final class RegistryTransport {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryTransport.class);
  private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
  private static final int MAX_REDIRECTS = 5;
  /** Enough of an error answer for the registry's error codes; the rest is not read. */
  static final int MAX_ERROR_BODY = 64 * 1024;

  /**
   * One request.
   *
   * @param registry credential/auth-cache key (the reference's registry)
   * @param subject names the request in messages, e.g. {@code manifest host/repo:tag}
   * @param body a replayable publisher (it may be sent twice: before and after auth)
   * @param idempotent allows retries and redirects (GET/HEAD)
   */
  record Call(String method, URI uri, String registry, List<String> scopes,
      Map<String, String> headers, RequestBody body, boolean idempotent,
      String subject) {
    Call {
      headers = Map.copyOf(headers);
      scopes = List.copyOf(scopes);
    }
  }

  private final Authenticator auth;
  private final String userAgent;
  private final Proxy proxy;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Retrier.Timing timing;

  /**
   * @param readTimeout longest silence on a socket read, for headers and body alike (the stall
   *     timeout): a stalled transfer fails instead of hanging forever
   */
  RegistryTransport(Authenticator auth, String userAgent, Proxy proxy, Duration connectTimeout,
      Duration readTimeout, Retrier.Timing timing) {
    this.auth = auth;
    this.userAgent = userAgent;
    this.proxy = proxy;
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
    this.timing = timing;
  }

  /** A fresh retry budget for one operation on {@code subject}. */
  Retrier retrier(String subject) {
    return new Retrier(timing, subject);
  }

  /**
   * The final response with its body still open; the caller must close it. Non-2xx statuses are
   * returned, not thrown, so the caller can map them with the right subject; only transport
   * failures (after retries) and auth-round failures throw.
   */
  RegistryResponse send(Call call) throws RegistryException {
    return send(call, call.idempotent() ? retrier(call.subject()) : Retrier.once(call.subject()));
  }

  /**
   * As {@link #send(Call)}, spending failures from {@code retrier}, which the caller may share
   * with its own retries of a broken body so that one budget covers the whole operation.
   */
  RegistryResponse send(Call call, Retrier retrier) throws RegistryException {
    String authorization = auth.cachedAuthorization(call.registry(), call.scopes());
    boolean authTried = false;
    while (true) {
      Exchange ex;
      try {
        ex = sendFollowingRedirects(call, authorization);
      } catch (RegistryException e) {
        throw e;
      } catch (IOException e) {
        if (call.idempotent() && retrier.failedTry(RetryCause.ofRequest(e), "cannot reach "
            + call.uri().getAuthority() + " (" + e + ")", null)) {
          continue;
        }
        throw new RegistryException(RegistryException.Kind.UNAVAILABLE,
            call.subject() + " unavailable: cannot reach " + call.uri().getAuthority() + " ("
                + e + ")", e);
      }
      RegistryResponse resp = ex.response();
      int status = resp.statusCode();
      if (status == 401 && !authTried && ex.onRegistryHost()) {
        AuthChallenge challenge =
            AuthChallenge.pick(resp.headers().allValues("WWW-Authenticate"));
        if (challenge == null) {
          return resp;
        }
        resp.close();
        try {
          authorization = auth.authorize(call.registry(), challenge, call.scopes());
        } catch (RegistryException e) {
          // Say which request needed the auth; the auth message itself holds no secrets.
          throw new RegistryException(e.kind(), call.subject() + ": " + e.getMessage(), e);
        }
        authTried = true; // an auth round is not a failed attempt
        continue;
      }
      if ((status >= 500 || status == 429) && call.idempotent()) {
        String retryAfter = resp.headers().firstValue("Retry-After").orElse(null);
        byte[] errorBody = readQuietly(resp);
        if (retrier.failedTry(status == 429 ? RetryCause.HTTP_429 : RetryCause.HTTP_5XX,
            "got HTTP " + status, retryAfter)) {
          continue;
        }
        // The budget is spent: hand the last answer back for the caller's error message.
        return new RegistryResponse(status, resp.headers(), new ByteArrayInputStream(errorBody),
            resp.uri());
      }
      return resp;
    }
  }

  private record Exchange(RegistryResponse response, boolean onRegistryHost) { }

  private Exchange sendFollowingRedirects(Call call, String authorization) throws IOException {
    URI uri = call.uri();
    String registryAuthority = call.uri().getAuthority();
    for (int hop = 0; ; hop++) {
      boolean sameHost = Objects.equals(uri.getAuthority(), registryAuthority)
          && Objects.equals(uri.getScheme(), call.uri().getScheme());
      LOG.debug("{} {}", call.method(), uri);
      RegistryResponse resp = exchange(call, uri, sameHost ? authorization : null);
      if (!call.idempotent() || !REDIRECTS.contains(resp.statusCode())) {
        return new Exchange(resp, sameHost);
      }
      String location = resp.headers().firstValue("Location").orElse(null);
      if (location == null) {
        return new Exchange(resp, sameHost);
      }
      resp.close();
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryException(RegistryException.Kind.INVALID_CONTENT,
            call.subject() + ": more than " + MAX_REDIRECTS + " redirects");
      }
      uri = uri.resolve(location);
    }
  }

  /** One HTTP exchange, no redirects followed; the body of the answer is left open. */
  private RegistryResponse exchange(Call call, URI uri, String authorization) throws IOException {
    HttpURLConnection c = (HttpURLConnection) (proxy == null ? uri.toURL().openConnection()
        : uri.toURL().openConnection(proxy));
    c.setInstanceFollowRedirects(false);
    c.setUseCaches(false);
    c.setConnectTimeout((int) connectTimeout.toMillis());
    c.setReadTimeout((int) readTimeout.toMillis());
    c.setRequestMethod(call.method());
    c.setRequestProperty("User-Agent", userAgent);
    call.headers().forEach(c::setRequestProperty);
    if (authorization != null) {
      c.setRequestProperty("Authorization", authorization);
    }
    if (call.method().equals("POST") || call.method().equals("PUT")) {
      c.setDoOutput(true);
      c.setFixedLengthStreamingMode(call.body().length());
      try (OutputStream out = c.getOutputStream(); InputStream in = call.body().source().open()) {
        in.transferTo(out);
      }
    }
    int status;
    try {
      status = c.getResponseCode();
    } catch (HttpRetryException e) {
      // A streamed body cannot be replayed by the JDK, so it reports the 401 this way.
      c.disconnect();
      return new RegistryResponse(e.responseCode(), HttpHeaders.of(Map.of(), (k, v) -> true),
          InputStream.nullInputStream(), uri);
    }
    InputStream body = status >= 400 ? c.getErrorStream() : c.getInputStream();
    Map<String, List<String>> headers = new HashMap<>();
    c.getHeaderFields().forEach((k, v) -> {
      if (k != null) {
        headers.put(k, v);
      }
    });
    return new RegistryResponse(status, HttpHeaders.of(headers, (k, v) -> true),
        body == null ? InputStream.nullInputStream() : body, uri);
  }

  static byte[] readCapped(RegistryResponse resp, int max) throws IOException {
    try (InputStream in = resp.body()) {
      return in.readNBytes(max);
    }
  }

  /**
   * Reads and closes the start of an answer whose body only matters for an error message;
   * empty when reading fails, since the status alone must then do.
   */
  static byte[] readQuietly(RegistryResponse resp) {
    try {
      return readCapped(resp, MAX_ERROR_BODY);
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
