package org.modelpack.csi.registry;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.modelpack.csi.config.Mirror;
import org.modelpack.csi.oci.BlobSource;
import org.modelpack.csi.registry.auth.CredentialStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A registry client with the endpoints tried, one attempt each, before a registry itself
 * (mirrors, pull-through caches, a Dragonfly dfdaemon proxy): any registry failure there falls
 * through to the next endpoint and finally to the registry; a local failure (disk full) does
 * not. Immutable.
 */
public final class MirroredRegistry {
  private static final Logger log = LoggerFactory.getLogger(MirroredRegistry.class);

  private final RegistryClient client;
  private final RegistryClient oneAttempt;
  private final Map<String, List<Mirror>> mirrors;

  /** @param mirrors by the registry host they stand in for */
  public MirroredRegistry(RegistryClient client, Map<String, List<Mirror>> mirrors) {
    this(client, client.withoutRetries(), Map.copyOf(mirrors));
  }

  private MirroredRegistry(RegistryClient client, RegistryClient oneAttempt,
      Map<String, List<Mirror>> mirrors) {
    this.client = client;
    this.oneAttempt = oneAttempt;
    this.mirrors = mirrors;
  }

  /** The same endpoints, authenticating with {@code credentials} (a pod's own). */
  public MirroredRegistry withCredentials(CredentialStore credentials) {
    return new MirroredRegistry(client.withCredentials(credentials), mirrors);
  }

  /** The registry itself, with its retries. */
  public RegistryClient client() {
    return client;
  }

  /** The registry itself, one attempt per request: for callers with a fallback of their own. */
  public RegistryClient oneAttempt() {
    return oneAttempt;
  }

  /** One attempt at a mirror's endpoint (the same repository on another host). */
  @FunctionalInterface
  public interface Attempt<T> {
    T on(RegistryClient oneAttempt, Reference onMirror) throws IOException;
  }

  /** The first answer a mirror of {@code ref}'s registry gives; empty when none does. */
  public <T> Optional<T> fromMirrors(Reference ref, String what, Attempt<T> attempt)
      throws IOException {
    for (Mirror m : mirrors.getOrDefault(ref.registry(), List.of())) {
      try {
        return Optional.of(attempt.on(oneAttempt,
            new Reference(m.host(), ref.repository(), ref.tag(), ref.digest())));
      } catch (RegistryException e) {
        log.warn("mirror {} could not serve {} of {} ({}); trying the next endpoint", m.host(),
            what, ref, e.getMessage());
      }
    }
    return Optional.empty();
  }

  /** Blobs of {@code ref}'s repository: from the first mirror serving them, else its registry. */
  public BlobSource blobs(Reference ref) {
    return (blob, out) -> {
      if (fromMirrors(ref, blob.digest(), (c, onMirror) -> {
        c.downloadBlob(onMirror, blob, out);
        return true;
      }).isEmpty()) {
        client.downloadBlob(ref, blob, out);
      }
    };
  }
}
