package org.modelpack.csi.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import org.modelpack.csi.dynamic.DynamicApiClient;
import org.modelpack.csi.dynamic.DynamicApiClient.Answer;
import org.modelpack.csi.json.Json;
import picocli.CommandLine.Option;

/**
 * {@code --workdir}: where a pod mounts its dynamic volume, as in the Go CLI. The volume's
 * name is read from {@code <workdir>/status.json}, and the API answers on
 * {@code <workdir>/csi/csi.sock}.
 */
final class WorkdirOptions {
  static final String DEFAULT_WORKDIR = "/home/admin/model-csi";

  @Option(names = "--workdir", paramLabel = "DIR", defaultValue = DEFAULT_WORKDIR,
      description = "Mount path of the pod's dynamic model volume (default: ${DEFAULT-VALUE})")
  Path workdir;

  Path socket() {
    return workdir.toAbsolutePath().resolve("csi").resolve("csi.sock");
  }

  /** The volume's name, from its status.json. */
  String volumeName() {
    Path status = workdir.toAbsolutePath().resolve("status.json");
    try {
      JsonNode node = Json.mapper().readTree(Files.readAllBytes(status));
      String name = node == null ? "" : node.path("volume_name").asText("");
      if (name.isEmpty()) {
        throw new CliFailure(status + " names no volume_name; --workdir must be the mount path "
            + "of a dynamic model volume");
      }
      return name;
    } catch (NoSuchFileException e) {
      throw new CliFailure(status + " does not exist; --workdir must be the mount path of a "
          + "dynamic model volume");
    } catch (IOException e) {
      throw new CliFailure("cannot read " + status + ": " + e.getMessage());
    }
  }

  /** The API path of the volume's mounts. */
  String mountsPath() {
    return "/api/v1/volumes/" + volumeName() + "/mounts";
  }

  DynamicApiClient connect() {
    Path socket = socket();
    if (!Files.exists(socket)) {
      throw new CliFailure(socket + " does not exist; --workdir must be the mount path of a "
          + "dynamic model volume");
    }
    try {
      return DynamicApiClient.connect(socket);
    } catch (IOException e) {
      throw new CliFailure(e.getMessage());
    }
  }

  /** Sends a request; an unreachable socket is a one-line failure. */
  static Answer send(DynamicApiClient client, String method, String path, String json,
      Duration timeout) {
    try {
      return client.send(method, path, json, timeout);
    } catch (IOException e) {
      throw new CliFailure(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure("interrupted");
    }
  }

  /** An error answer as one line: the API's code and message. */
  static CliFailure failure(String what, Answer answer) {
    try {
      JsonNode body = Json.mapper().readTree(answer.body());
      if (body != null && body.has("code")) {
        return new CliFailure(what + ": " + body.path("code").asText() + " (HTTP "
            + answer.status() + "): " + OneLine.of(body.path("message").asText()));
      }
    } catch (IOException e) {
      // not our JSON: shown as it came
    }
    return new CliFailure(what + ": HTTP " + answer.status() + ": "
        + OneLine.of(answer.body().isBlank() ? "(no body)" : answer.body()));
  }
}
