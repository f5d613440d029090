package org.modelpack.csi.registry.auth;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.registry.RegistryException;

/**
 * Runs a docker credential helper ({@code docker-credential-<suffix> get}) the way the docker
 * CLI does: server address on stdin, JSON {@code {ServerURL, Username, Secret}} on stdout.
 *
 * <p>The helper is searched in an explicit list of directories (PATH by default) rather than
 * handed to the shell, so tests can point at a fake helper and a config file cannot make us run
 * arbitrary paths (the suffix is restricted to a safe character set).
 */
final class CredentialHelper {
  private static final Pattern SUFFIX = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final String TOKEN_USERNAME = "<token>";
  private static final int MAX_OUTPUT = 64 * 1024;
  private static final long TIMEOUT_SECONDS = 30;

  private final List<Path> searchDirs;

  CredentialHelper(List<Path> searchDirs) {
    this.searchDirs = List.copyOf(searchDirs);
  }

  /** Credentials from the helper, or ANONYMOUS if it reports "credentials not found". */
  Credentials get(String suffix, String serverAddress) throws RegistryException {
    String name = "docker-credential-" + suffix;
    if (!SUFFIX.matcher(suffix).matches()) {
      throw new RegistryException(RegistryException.Kind.INVALID_ARGUMENT,
          "credential helper name '" + name + "' is not allowed");
    }
    Path exe = searchDirs.stream().map(d -> d.resolve(name))
        .filter(Files::isExecutable).findFirst()
        .orElseThrow(() -> new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
            "credential helper " + name + " not found in " + searchDirs));
    byte[] out;
    int exit;
    try {
      Process p = new ProcessBuilder(exe.toString(), "get")
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      try (OutputStream stdin = p.getOutputStream()) {
        stdin.write(serverAddress.getBytes(StandardCharsets.UTF_8));
      }
      try (InputStream stdout = p.getInputStream()) {
        out = stdout.readNBytes(MAX_OUTPUT);
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new RegistryException(RegistryException.Kind.UNAVAILABLE,
            "credential helper " + name + " did not finish within " + TIMEOUT_SECONDS + "s");
      }
      exit = p.exitValue();
    } catch (IOException e) {
      throw new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
          "credential helper " + name + " could not be run: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException(RegistryException.Kind.UNAVAILABLE,
          "interrupted while running credential helper " + name, e);
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (exit != 0) {
      if (text.contains("credentials not found")) {
        return Credentials.ANONYMOUS;
      }
      // The helper's output is deliberately not quoted: it is not ours to trust with secrets.
      throw new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
          "credential helper " + name + " failed for " + serverAddress + " (exit " + exit + ")");
    }
    JsonNode node;
    try {
      node = Json.mapper().readTree(out);
    } catch (IOException e) {
      node = null;
    }
    if (node == null || !node.isObject()) {
      throw new RegistryException(RegistryException.Kind.UNAUTHENTICATED,
          "credential helper " + name + " returned output that is not a JSON object");
    }
    String user = node.path("Username").asText(null);
    String secret = node.path("Secret").asText(null);
    if (TOKEN_USERNAME.equals(user)) {
      return new Credentials(null, null, secret, null);
    }
    return new Credentials(user, secret, null, null);
  }
}
