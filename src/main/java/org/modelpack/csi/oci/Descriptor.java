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

  /**
   * Largest size a descriptor may declare: 1 PiB (2^50 bytes), far beyond any model, and small
   * enough that sums and chunk arithmetic over thousands of such sizes cannot overflow a long
   * (docs/decisions/0822).
   */
  public static final long MAX_SIZE = 1L << 50;

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
