package org.modelpack.csi.registry;

import java.util.Objects;
import java.util.regex.Pattern;
import org.modelpack.csi.oci.Digest;

/**
 * A parsed image reference such as {@code 127.0.0.1:5000/ns/model:v1@sha256:...}.
 *
 * <p>Normalised the way docker and oras do it, so the same string names the same artifact in
 * every tool: a missing registry host means Docker Hub ({@code docker.io}), a one-component Hub
 * repository gets {@code library/}, and a reference with neither tag nor digest means {@code
 * latest}. {@code tag} and {@code digest} may both be set; the digest then wins.
 */
public record Reference(String registry, String repository, String tag, String digest) {

  public static final String DOCKER_HUB = "docker.io";
  public static final String DOCKER_HUB_API = "registry-1.docker.io";
  private static final String DEFAULT_TAG = "latest";
  private static final int MAX_NAME_LENGTH = 255;

  // Distribution spec grammar (path components, tags) and a permissive host[:port] grammar.
  private static final Pattern REPOSITORY = Pattern.compile(
      "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");
  private static final Pattern TAG = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");
  private static final Pattern HOST = Pattern.compile(
      "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
          + "|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?");

  public Reference {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(repository, "repository");
    if (tag == null && digest == null) {
      throw new IllegalArgumentException("reference needs a tag or a digest");
    }
  }

  /** Parses and normalises {@code value}; the message of the exception names what is wrong. */
  public static Reference parse(String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("reference is empty");
    }
    String rest = value.trim();
    String digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      String d = rest.substring(at + 1);
      try {
        digest = Digest.parse(d).toString();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "reference '" + value + "' has an invalid digest: " + e.getMessage(), e);
      }
      rest = rest.substring(0, at);
    }
    // A tag colon can only come after the last '/', which keeps host:port intact.
    String tag = null;
    int colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/') && colon > rest.lastIndexOf(']')) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw new IllegalArgumentException("reference '" + value + "' has an invalid tag '" + tag
            + "' (allowed: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})");
      }
    }
    if (rest.isEmpty()) {
      throw new IllegalArgumentException("reference '" + value + "' has no repository name");
    }
    String registry;
    String repository;
    int slash = rest.indexOf('/');
    String first = slash < 0 ? rest : rest.substring(0, slash);
    if (slash > 0 && isHost(first)) {
      registry = first;
      repository = rest.substring(slash + 1);
      if (!HOST.matcher(registry).matches()) {
        throw new IllegalArgumentException(
            "reference '" + value + "' has an invalid registry host '" + registry + "'");
      }
    } else {
      registry = DOCKER_HUB;
      repository = rest;
    }
    if (registry.equals("index.docker.io") || registry.equals(DOCKER_HUB_API)) {
      registry = DOCKER_HUB;
    }
    if (registry.equals(DOCKER_HUB) && repository.indexOf('/') < 0) {
      repository = "library/" + repository;
    }
    if (!REPOSITORY.matcher(repository).matches()) {
      String hint = repository.equals(repository.toLowerCase()) ? "" : " (must be lowercase)";
      throw new IllegalArgumentException("reference '" + value + "' has an invalid repository '"
          + repository + "'" + hint);
    }
    if (registry.length() + 1 + repository.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "reference '" + value + "' is longer than " + MAX_NAME_LENGTH + " characters");
    }
    if (tag == null && digest == null) {
      tag = DEFAULT_TAG;
    }
    return new Reference(registry, repository, tag, digest);
  }

  /** Docker's rule: the first component is a host if it looks like one. */
  private static boolean isHost(String first) {
    return first.contains(".") || first.contains(":") || first.startsWith("[")
        || first.equals("localhost");
  }

  /** Host (and port) to send HTTP requests to; Docker Hub's API lives on another name. */
  public String apiHost() {
    return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API : registry;
  }

  /** What goes after {@code /manifests/}: the digest if pinned, else the tag. */
  public String identifier() {
    return digest != null ? digest : tag;
  }

  public Reference withDigest(String newDigest) {
    return new Reference(registry, repository, tag, Digest.parse(newDigest).toString());
  }

  public Reference withTag(String newTag) {
    if (!TAG.matcher(newTag).matches()) {
      throw new IllegalArgumentException("invalid tag '" + newTag + "'");
    }
    return new Reference(registry, repository, newTag, digest);
  }

  /** registry/repository, used in messages about blobs. */
  public String name() {
    return registry + "/" + repository;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(name());
    if (tag != null) {
      sb.append(':').append(tag);
    }
    if (digest != null) {
      sb.append('@').append(digest);
    }
    return sb.toString();
  }
}
