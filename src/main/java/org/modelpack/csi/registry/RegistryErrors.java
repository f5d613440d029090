package org.modelpack.csi.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.registry.RegistryException.Kind;

/**
 * Maps a failed registry response to a {@link RegistryException} whose message names the
 * operation and subject, the HTTP status and the registry's own error codes, e.g. {@code
 * manifest 127.0.0.1:5000/ns/model:v1 not found (404 MANIFEST_UNKNOWN: manifest unknown)}.
 * A malformed digest the caller passed becomes one too, as the caller's error.
 */
final class RegistryErrors {
  private static final ObjectMapper JSON = Json.mapper();
  private static final Set<String> NOT_FOUND_CODES =
      Set.of("MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN");
  private static final int MAX_TEXT = 200;

  /** One entry of the {@code {"errors":[...]}} body. */
  record ErrorEntry(String code, String message) { }

  private RegistryErrors() { }

  static Kind kindFor(int status, List<ErrorEntry> errors) {
    if (errors.stream().anyMatch(e -> NOT_FOUND_CODES.contains(e.code()))) {
      return Kind.NOT_FOUND;
    }
    if (status == 401) {
      return Kind.UNAUTHENTICATED;
    }
    if (status == 403 || errors.stream().anyMatch(e -> "DENIED".equals(e.code()))) {
      return Kind.PERMISSION_DENIED;
    }
    if (status == 404) {
      return Kind.NOT_FOUND;
    }
    if (status == 429 || status >= 500) {
      return Kind.UNAVAILABLE;
    }
    if (status >= 400) {
      return Kind.INVALID_ARGUMENT;
    }
    return Kind.INVALID_CONTENT; // e.g. an unexpected 2xx/3xx
  }

  /**
   * @param subject what was asked for, e.g. {@code "manifest 127.0.0.1:5000/ns/model:v1"}
   * @param body the (size-capped) response body, may be empty
   */
  static RegistryException fromResponse(String subject, int status, byte[] body) {
    List<ErrorEntry> errors = parse(body);
    Kind kind = kindFor(status, errors);
    StringBuilder detail = new StringBuilder().append(status);
    for (int i = 0; i < errors.size(); i++) {
      ErrorEntry e = errors.get(i);
      detail.append(i == 0 ? " " : "; ").append(e.code());
      if (e.message() != null && !e.message().isEmpty()) {
        detail.append(": ").append(e.message());
      }
    }
    return new RegistryException(kind, subject + " " + phrase(kind) + " (" + detail + ")");
  }

  /** {@code digest} parsed; malformed or unsupported is the caller's error. */
  static Digest parseDigest(String digest) throws RegistryException {
    try {
      return Digest.parse(digest);
    } catch (IllegalArgumentException e) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, e.getMessage(), e);
    }
  }

  static String phrase(Kind kind) {
    return switch (kind) {
      case NOT_FOUND -> "not found";
      case UNAUTHENTICATED -> "requires authentication (missing or rejected credentials)";
      case PERMISSION_DENIED -> "access denied";
      case UNAVAILABLE -> "unavailable";
      case INVALID_ARGUMENT -> "rejected by the registry";
      case INVALID_CONTENT -> "got an unexpected answer";
    };
  }

  static List<ErrorEntry> parse(byte[] body) {
    List<ErrorEntry> out = new ArrayList<>();
    if (body == null || body.length == 0) {
      return out;
    }
    try {
      JsonNode errors = JSON.readTree(body).path("errors");
      for (JsonNode e : errors) {
        out.add(new ErrorEntry(clean(e.path("code").asText("")),
            clean(e.path("message").asText(""))));
      }
    } catch (IOException | RuntimeException e) {
      // Not the JSON error format (an HTML page from a proxy, say): status alone must do.
    }
    return out;
  }

  /** Registry text goes into our messages: keep it short and printable. */
  private static String clean(String s) {
    String t = s.replaceAll("\\p{Cntrl}", " ").trim();
    return t.length() > MAX_TEXT ? t.substring(0, MAX_TEXT) + "..." : t;
  }
}
