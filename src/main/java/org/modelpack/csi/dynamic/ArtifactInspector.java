package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.modelpack.ModelAnnotations;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistryException;
import org.modelpack.csi.registry.ResolvedManifest;

/**
 * {@code GET /api/v1/artifacts/{reference}}: what a model artifact holds, without pulling it:
 * its manifest, and its config blob (small, read with the node's credentials). Field names are
 * those of the Go driver's answer (modctl's inspected artifact).
 */
final class ArtifactInspector {
  /** A model config is a few hundred bytes; anything far larger is not one. */
  private static final long MAX_CONFIG_BYTES = 1 << 20;

  private final RegistryClient registry;
  private final Path scratchDir;

  /** @param scratchDir a private directory of the driver's for the config blob, briefly */
  ArtifactInspector(RegistryClient registry, Path scratchDir) {
    this.registry = registry;
    this.scratchDir = scratchDir;
  }

  record Layer(@JsonProperty("MediaType") String mediaType, @JsonProperty("Digest") String digest,
      @JsonProperty("Size") long size, @JsonProperty("Filepath") String filepath) {}

  record Inspected(@JsonProperty("Id") String id, @JsonProperty("Digest") String digest,
      @JsonProperty("Architecture") String architecture,
      @JsonProperty("CreatedAt") String createdAt, @JsonProperty("Family") String family,
      @JsonProperty("Format") String format, @JsonProperty("Name") String name,
      @JsonProperty("ParamSize") String paramSize, @JsonProperty("Precision") String precision,
      @JsonProperty("Quantization") String quantization,
      @JsonProperty("Layers") List<Layer> layers) {}

  Inspected inspect(String text) {
    Reference ref;
    try {
      ref = Reference.parse(text);
    } catch (IllegalArgumentException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "reference '" + text
          + "' is invalid: " + e.getMessage(), e);
    }
    try {
      ResolvedManifest resolved = registry.fetchManifest(ref);
      Descriptor config = resolved.manifest().config();
      JsonNode cfg = config == null ? Json.mapper().createObjectNode() : readConfig(ref, config);
      JsonNode d = cfg.path("descriptor");
      JsonNode c = cfg.path("config");
      List<Layer> layers = resolved.manifest().layers().stream().map(l -> new Layer(
          l.mediaType(), l.digest(), l.size(), ModelAnnotations.filePath(l).orElse(""))).toList();
      return new Inspected(config == null ? "" : config.digest(), resolved.digest(),
          c.path("architecture").asText(""), d.path("createdAt").asText(""),
          d.path("family").asText(""), c.path("format").asText(""), d.path("name").asText(""),
          c.path("paramSize").asText(""), c.path("precision").asText(""),
          c.path("quantization").asText(""), layers);
    } catch (RegistryException e) {
      throw new DriverException(e.kind() == RegistryException.Kind.NOT_FOUND
          ? ErrorKind.NOT_FOUND : ErrorKind.INTERNAL, "inspect " + ref + ": " + e.getMessage(),
          e);
    } catch (IOException e) {
      throw new DriverException(ErrorKind.INTERNAL, "inspect " + ref + ": " + e.getMessage(), e);
    }
  }

  private JsonNode readConfig(Reference ref, Descriptor config) throws IOException {
    if (config.size() > MAX_CONFIG_BYTES) {
      throw new DriverException(ErrorKind.INTERNAL, "inspect " + ref + ": its config blob is "
          + config.size() + " bytes; a model config is at most " + MAX_CONFIG_BYTES);
    }
    Path file = Files.createTempFile(scratchDir, ".inspect-", ".json");
    try {
      registry.downloadBlob(ref, config, file);
      return Json.mapper().readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return Json.mapper().createObjectNode(); // not JSON: the manifest's part still answers
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
