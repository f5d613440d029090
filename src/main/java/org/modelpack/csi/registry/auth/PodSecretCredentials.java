package org.modelpack.csi.registry.auth;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.registry.RegistryException;

/**
 * Credentials a pod brings in its {@code nodePublishSecretRef}, taking precedence over the
 * node's own for that pull. Accepted shapes: a {@code .dockerconfigjson} key (as in a
 * {@code kubernetes.io/dockerconfigjson} Secret) or {@code username}/{@code password} keys (for
 * every registry of the pull). Registries the secret says nothing about fall back to the node's
 * credentials. The secret is held in memory only and never printed.
 */
public final class PodSecretCredentials implements CredentialStore {
  public static final String DOCKER_CONFIG_JSON = ".dockerconfigjson";

  /** What a secret holds: a docker config's {@code auths}, or one username and password. */
  private record Secret(JsonNode auths, Credentials everywhere) {}

  private final Secret secret;
  /** The registry a username/password applies to; null: any. */
  private final String registry;
  private final CredentialStore fallback;

  private PodSecretCredentials(Secret secret, String registry, CredentialStore fallback) {
    this.secret = secret;
    this.registry = registry;
    this.fallback = fallback;
  }

  /**
   * The credentials in {@code secrets} (a pod's node-publish secrets), or empty when it holds
   * none of the known keys. Parsed once per publish; {@link #over} binds them to a pull.
   *
   * @throws IllegalArgumentException naming the key (never the value) when it is malformed
   */
  public static Optional<PodSecretCredentials> parse(Map<String, String> secrets) {
    String dockerConfig = secrets.get(DOCKER_CONFIG_JSON);
    if (dockerConfig != null) {
      JsonNode root;
      try {
        root = Json.mapper().readTree(dockerConfig);
      } catch (IOException e) {
        throw new IllegalArgumentException("secret key " + DOCKER_CONFIG_JSON
            + " is not valid JSON");
      }
      if (root == null || !root.path("auths").isObject()) {
        throw new IllegalArgumentException("secret key " + DOCKER_CONFIG_JSON
            + " has no \"auths\" object");
      }
      return Optional.of(new PodSecretCredentials(new Secret(root.path("auths"), null), null,
          CredentialStore.ANONYMOUS));
    }
    String user = secrets.get("username");
    String password = secrets.get("password");
    if (user != null || password != null) {
      if (user == null || user.isEmpty() || password == null) {
        throw new IllegalArgumentException("secret needs both 'username' and 'password' keys");
      }
      return Optional.of(new PodSecretCredentials(
          new Secret(null, Credentials.basic(user, password)), null, CredentialStore.ANONYMOUS));
    }
    return Optional.empty();
  }

  /**
   * These credentials for one pull: {@code username}/{@code password} keys apply to
   * {@code registry} only (the pull's own registry), never to a mirror or another host; null
   * means any registry. A registry they do not cover gets {@code fallback}'s (the node's).
   */
  public PodSecretCredentials over(CredentialStore fallback, String registry) {
    return new PodSecretCredentials(secret, registry, fallback);
  }

  @Override
  public Credentials lookup(String registry) throws RegistryException {
    if (secret.everywhere() != null) {
      return this.registry == null || this.registry.equals(registry) ? secret.everywhere()
          : fallback.lookup(registry);
    }
    Optional<JsonNode> entry = DockerConfigCredentials.findByHost(secret.auths(),
        DockerConfigCredentials.normaliseKey(registry));
    if (entry.isPresent()) {
      return DockerConfigCredentials.fromAuthEntry(entry.get(), registry);
    }
    return fallback.lookup(registry);
  }

  @Override
  public String toString() {
    return "PodSecretCredentials[secret-provided]";
  }
}
