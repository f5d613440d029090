package org.modelpack.csi.pull;

import org.modelpack.csi.error.Excerpt;
import org.modelpack.csi.modelpack.FileMetadata;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.store.LayerRequest;
import org.modelpack.csi.modelpack.ModelAnnotations;
import org.modelpack.csi.oci.Descriptor;

/**
 * What to do with one manifest layer.
 *
 * @param path the file path for a raw layer (null for tar layers, whose entries name themselves)
 * @param metadata mode/mtime from the file-metadata annotation, or null
 */
public record LayerPlan(int index, Descriptor layer, LayerFormat format, String path,
    FileMetadata metadata) {

  /**
   * {@code layer 2 (sha256:…, tokenizer/)}: its index, digest and file path (a tar layer's
   * informational one when it has it), for messages.
   */
  public String describe() {
    String named = path != null ? path : ModelAnnotations.filePath(layer).orElse(null);
    return "layer " + index + " (" + layer.digest()
        + (named == null ? "" : ", " + Excerpt.of(named, 100)) + ")";
  }

  /** What the store is asked for to place this layer. */
  public LayerRequest storeRequest() {
    return new LayerRequest(layer.digest(), format, layer.size(),
        metadata != null && metadata.executable(), metadata == null ? null : metadata.mtime());
  }
}
