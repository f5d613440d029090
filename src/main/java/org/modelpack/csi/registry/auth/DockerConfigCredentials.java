package org.modelpack.csi.registry.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.registry.RegistryException;

/**
 * Credentials from a docker {@code config.json} ({@code <dir>/config.json}).
 *
 * <p>Lookup order for a registry: {@code credHelpers[host]}, then {@code credsStore}, then the
 * plaintext {@code auths} entry (kubelet-style secrets and {@code modctl login} write only
 * that). A missing file means anonymous access (see docs/decisions/0101). The file is re-read on
 * every lookup because a mounted secret can change while the driver runs; lookups only happen on
 * an auth round, which is rare thanks to token caching.
 */
public final class DockerConfigCredentials implements CredentialStore {
  /** The key docker uses for Docker Hub in config.json and in credential helpers. */
  public static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";
  private static final Set<String> HUB_ALIASES =
      Set.of("docker.io", "index.docker.io", "registry-1.docker.io");

  private final Path configFile;
  private final CredentialHelper helpers;

  /** Helpers are searched on PATH. */
  public DockerConfigCredentials(Path dockerConfigDir) {
    this(dockerConfigDir, pathDirectories());
  }

  /** {@code helperDirs}: directories searched for {@code docker-credential-*} executables. */
  public DockerConfigCredentials(Path dockerConfigDir, List<Path> helperDirs) {
    this.configFile = dockerConfigDir == null ? null : dockerConfigDir.resolve("config.json");
    this.helpers = new CredentialHelper(helperDirs);
  }

  @Override
  public Credentials lookup(String registry) throws RegistryException {
    JsonNode config = read();
    if (config == null) {
      return Credentials.ANONYMOUS;
    }
    String host = normaliseKey(registry);
    String helper = findByHost(config.path("credHelpers"), host).map(JsonNode::asText)
        .orElse(null);
    if (helper != null && !helper.isEmpty()) {
      Credentials c = helpers.get(helper, helperServer(registry));
      if (!c.isAnonymous()) {
        return c;
      }
    }
    String store = config.path("credsStore").asText("");
    if (!store.isEmpty()) {
      Credentials c = helpers.get(store, helperServer(registry));
      if (!c.isAnonymous()) {
        return c;
      }
    }
    Optional<JsonNode> entry = findByHost(config.path("auths"), host);
    return entry.isPresent() ? fromAuthEntry(entry.get(), registry) : Credentials.ANONYMOUS;
  }

  /**
   * The non-standard {@code serverscheme} of the registry's {@code auths} entry ("http" asks
   * for plain HTTP; written by the Go model-csi-driver), if any.
   */
  public Optional<String> serverScheme(String registry) throws RegistryException {
    JsonNode config = read();
    if (config == null) {
      return Optional.empty();
    }
    return findByHost(config.path("auths"), normaliseKey(registry))
        .map(e -> e.path("serverscheme").asText(""))
        .filter(s -> !s.isEmpty())
        .map(s -> s.toLowerCase(Locale.ROOT));
  }

  /**
   * {@code https://host:port/v1/} → {@code host:port}; Docker Hub aliases → {@code docker.io}.
   */
  static String normaliseKey(String key) {
    String k = key.trim().toLowerCase(Locale.ROOT);
    int scheme = k.indexOf("://");
    if (scheme >= 0) {
      k = k.substring(scheme + 3);
    }
    int slash = k.indexOf('/');
    if (slash >= 0) {
      k = k.substring(0, slash);
    }
    return HUB_ALIASES.contains(k) ? "docker.io" : k;
  }

  private static String helperServer(String registry) {
    return normaliseKey(registry).equals("docker.io") ? DOCKER_HUB_KEY : registry;
  }

  static Optional<JsonNode> findByHost(JsonNode map, String normalisedHost) {
    if (!map.isObject()) {
      return Optional.empty();
    }
    // Exact key first so an explicit "host:port" beats a normalised alias.
    if (map.has(normalisedHost)) {
      return Optional.of(map.get(normalisedHost));
    }
    Iterator<Map.Entry<String, JsonNode>> it = map.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (normaliseKey(e.getKey()).equals(normalisedHost)) {
        return Optional.of(e.getValue());
      }
    }
    return Optional.empty();
  }

  static Credentials fromAuthEntry(JsonNode entry, String registry)
      throws RegistryException {
    String username = text(entry, "username");
    String password = text(entry, "password");
    String auth = text(entry, "auth");
    if (auth != null) {
      String decoded;
      try {
        decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        // Never include the value: it is the password.
        throw new RegistryException(RegistryException.Kind.INVALID_ARGUMENT,
            "docker config: 'auth' for " + registry + " is not valid base64");
      }
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        throw new RegistryException(RegistryException.Kind.INVALID_ARGUMENT,
            "docker config: 'auth' for " + registry + " is not of the form user:password");
      }
      username = decoded.substring(0, colon);
      password = decoded.substring(colon + 1);
    }
    return new Credentials(username, password, text(entry, "identitytoken"),
        text(entry, "registrytoken"));
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
  }

  private JsonNode read() throws RegistryException {
    if (configFile == null) {
      return null;
    }
    try {
      JsonNode node = Json.mapper().readTree(Files.readAllBytes(configFile));
      if (node == null || !node.isObject()) {
        throw new RegistryException(RegistryException.Kind.INVALID_ARGUMENT,
            "docker config " + configFile + " is not a JSON object");
      }
      return node;
    } catch (NoSuchFileException e) {
      return null;
    } catch (RegistryException e) {
      throw e;
    } catch (JsonProcessingException e) {
      // Jackson's message quotes file content (secrets), so neither it nor the cause is kept.
      throw new RegistryException(RegistryException.Kind.INVALID_ARGUMENT,
          "docker config " + configFile + " is not valid JSON (line "
              + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ")");
    } catch (IOException e) {
      throw new RegistryException(RegistryException.Kind.INVALID_ARGUMENT,
          "docker config " + configFile + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static List<Path> pathDirectories() {
    List<Path> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      for (String p : path.split(java.io.File.pathSeparator)) {
        if (!p.isEmpty()) {
          dirs.add(Path.of(p));
        }
      }
    }
    return dirs;
  }
}
