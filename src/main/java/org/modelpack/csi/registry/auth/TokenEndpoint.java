package org.modelpack.csi.registry.auth;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.registry.RegistryException;

/**
 * The HTTP side of the token flow, separated from {@link Authenticator} so the caching and
 * fallback logic can be unit-tested without a server.
 */
public interface TokenEndpoint {

  /** What a token server answered: the status, and on 2xx the token and its lifetime. */
  record Answer(int status, String token, long expiresInSeconds) {
    @Override
    public String toString() {
      return "Answer[status=" + status + ", token=" + (token == null ? "<none>" : "***")
          + ", expiresInSeconds=" + expiresInSeconds + "]";
    }
  }

  /**
   * {@code GET realm?service=..&scope=..&scope=..}, with {@code authorization} (a full header
   * value) or anonymously when it is null.
   */
  Answer get(URI realm, String service, List<String> scopes, String authorization)
      throws RegistryException;

  /** OAuth2 form POST to {@code realm}. */
  Answer post(URI realm, Map<String, String> form) throws RegistryException;
}
