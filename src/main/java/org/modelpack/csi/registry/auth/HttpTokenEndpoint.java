package org.modelpack.csi.registry.auth;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.registry.RegistryException;

/** {@link TokenEndpoint} over {@link HttpClient} (distribution token spec + OAuth2 variant). */
public final class HttpTokenEndpoint implements TokenEndpoint {
  /** Same cap as oras: a token answer is small, anything bigger is not a token server. */
  private static final int MAX_BODY = 128 * 1024;
  private static final long DEFAULT_EXPIRES_IN = 60;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final String CLIENT_ID = "modelpack-csi";

  private final HttpClient http;
  private final String userAgent;

  public HttpTokenEndpoint(HttpClient http, String userAgent) {
    this.http = http;
    this.userAgent = userAgent;
  }

  @Override
  public Answer get(URI realm, String service, List<String> scopes, String authorization)
      throws RegistryException {
    List<String> query = new ArrayList<>();
    if (service != null) {
      query.add("service=" + enc(service));
    }
    for (String s : scopes) {
      query.add("scope=" + enc(s));
    }
    String sep = realm.getRawQuery() == null ? "?" : "&";
    URI uri = query.isEmpty() ? realm : URI.create(realm + sep + String.join("&", query));
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(TIMEOUT)
        .header("User-Agent", userAgent);
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return send(b.build(), realm);
  }

  @Override
  public Answer post(URI realm, Map<String, String> form) throws RegistryException {
    Map<String, String> all = new java.util.LinkedHashMap<>(form);
    all.putIfAbsent("client_id", CLIENT_ID);
    String body = all.entrySet().stream()
        .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
        .collect(Collectors.joining("&"));
    HttpRequest req = HttpRequest.newBuilder(realm).timeout(TIMEOUT)
        .header("User-Agent", userAgent)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return send(req, realm);
  }

  private Answer send(HttpRequest req, URI realm) throws RegistryException {
    // Only the realm's host goes into messages: the query is ours, but keep messages short.
    String where = realm.getScheme() + "://" + realm.getAuthority() + realm.getPath();
    HttpResponse<InputStream> resp;
    byte[] body;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = resp.body()) {
        body = in.readNBytes(MAX_BODY);
      }
    } catch (IOException e) {
      throw new RegistryException(RegistryException.Kind.UNAVAILABLE,
          "token server " + where + " unreachable: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException(RegistryException.Kind.UNAVAILABLE,
          "interrupted while fetching a token from " + where, e);
    }
    int status = resp.statusCode();
    if (status / 100 != 2) {
      return new Answer(status, null, 0);
    }
    JsonNode node;
    try {
      node = Json.mapper().readTree(body);
    } catch (IOException e) {
      node = null;
    }
    if (node == null || !node.isObject()) {
      throw new RegistryException(RegistryException.Kind.INVALID_CONTENT,
          "token server " + where + " answered " + status + " without a JSON object");
    }
    String token = textOrNull(node, "access_token");
    if (token == null) {
      token = textOrNull(node, "token");
    }
    if (token == null) {
      throw new RegistryException(RegistryException.Kind.INVALID_CONTENT,
          "token server " + where + " answered without token or access_token");
    }
    long expiresIn = node.path("expires_in").asLong(0);
    return new Answer(status, token, expiresIn > 0 ? expiresIn : DEFAULT_EXPIRES_IN);
  }

  private static String textOrNull(JsonNode n, String f) {
    JsonNode v = n.get(f);
    return v == null || !v.isTextual() || v.asText().isEmpty() ? null : v.asText();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
