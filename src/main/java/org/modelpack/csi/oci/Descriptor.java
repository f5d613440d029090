package org.modelpack.csi.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/** An OCI content descriptor: what a manifest says about one blob. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Descriptor(
    String mediaType,
    String digest,
    long size,
    Map<String, String> annotations,
    String artifactType) {

  public Descriptor {
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }

  public Descriptor(String mediaType, String digest, long size, Map<String, String> annotations) {
    this(mediaType, digest, size, annotations, null);
  }

  public String annotation(String key) {
    return annotations.get(key);
  }
}
