package org.modelpack.csi.pull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.materialize.SafePath;
import org.modelpack.csi.modelpack.FileMetadata;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.modelpack.ModelAnnotations;
import org.modelpack.csi.modelpack.ModelMediaTypes;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.ResolvedManifest;

/**
 * Turns a fetched manifest into a layer plan, rejecting anything unsafe before a single byte is
 * downloaded: non-model artifacts, unknown layer types, bad digests, raw paths that would leave
 * the model directory, and two raw layers claiming one path.
 */
public final class PullPlanner {

  public PullPlan plan(ResolvedManifest resolved) {
    Manifest m = resolved.manifest();
    String ref = resolved.reference().toString();
    if (!ModelMediaTypes.isModelManifest(m)) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "reference " + ref
          + " is not a ModelPack model artifact (artifactType " + m.artifactType()
          + ", config media type " + (m.config() == null ? null : m.config().mediaType()) + ")");
    }
    Path probeRoot = Path.of("/nonexistent-model-root");
    List<LayerPlan> plans = new ArrayList<>();
    Map<String, Integer> rawPaths = new HashMap<>();
    int index = 0;
    for (Descriptor layer : m.layers()) {
      try {
        Digest.parse(layer.digest());
        if (layer.size() < 0) {
          throw new IllegalArgumentException("negative size " + layer.size());
        }
        LayerFormat format = ModelMediaTypes.formatOf(layer);
        FileMetadata meta = ModelAnnotations.fileMetadata(layer).orElse(null);
        String path = null;
        if (format == LayerFormat.RAW) {
          path = ModelAnnotations.filePath(layer).orElseThrow(() ->
              new IllegalArgumentException("raw layer has no file path annotation"));
          String normal = SafePath.resolve(probeRoot, path).toString();
          Integer other = rawPaths.putIfAbsent(normal, index);
          if (other != null) {
            throw new IllegalArgumentException("path '" + path + "' is also claimed by layer "
                + other);
          }
        }
        plans.add(new LayerPlan(index, layer, format, path, meta));
      } catch (Exception e) {
        throw new DriverException(ErrorKind.INVALID_ARGUMENT, "model " + ref + ": layer " + index
            + " (" + layer.digest() + ", " + layer.mediaType() + ") is not acceptable: "
            + e.getMessage(), e);
      }
      index++;
    }
    return new PullPlan(resolved.reference(), resolved.digest(), plans, resolved.raw());
  }
}
