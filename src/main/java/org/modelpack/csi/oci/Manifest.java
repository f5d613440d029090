package org.modelpack.csi.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.json.Json;

/**
 * An OCI image manifest or image index. Exactly one of {@code layers} (manifest) or
 * {@code manifests} (index) is meaningful; the other is empty.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Manifest(
    int schemaVersion,
    String mediaType,
    String artifactType,
    Descriptor config,
    List<Descriptor> layers,
    List<Descriptor> manifests,
    Map<String, String> annotations) {

  /**
   * Parses a manifest's bytes; fields this driver does not know are ignored, in the manifest and
   * in everything it holds.
   */
  public static Manifest parse(byte[] raw) throws IOException {
    return Json.mapper().readerFor(Manifest.class)
        .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(raw);
  }

  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_MANIFEST_LIST =
      "application/vnd.docker.distribution.manifest.list.v2+json";

  public Manifest {
    layers = layers == null ? List.of() : List.copyOf(layers);
    manifests = manifests == null ? List.of() : List.copyOf(manifests);
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }

  public boolean isIndex() {
    return OCI_INDEX.equals(mediaType) || DOCKER_MANIFEST_LIST.equals(mediaType)
        || (config == null && !manifests.isEmpty());
  }
}
