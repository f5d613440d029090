package org.modelpack.csi.registry;

import java.io.IOException;

/**
 * A registry operation failed. {@link Kind} says why, so callers can pick the right gRPC code
 * without parsing messages. Messages never contain credentials.
 */
public class RegistryException extends IOException {

  public enum Kind {
    /** Manifest, tag, repository or blob does not exist (404, MANIFEST_UNKNOWN, NAME_UNKNOWN). */
    NOT_FOUND,
    /** 401: no or wrong credentials. */
    UNAUTHENTICATED,
    /** 403 / DENIED: credentials accepted but not allowed. */
    PERMISSION_DENIED,
    /** Registry unreachable, 5xx, 429 after retries, connection errors. */
    UNAVAILABLE,
    /** The registry sent something that is not a valid answer (bad manifest, wrong size or digest). */
    INVALID_CONTENT,
    /** The request itself is invalid (bad reference, unsupported artifact). */
    INVALID_ARGUMENT
  }

  private final Kind kind;

  public RegistryException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public RegistryException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
