package org.modelpack.csi.pull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.error.Excerpt;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.unpack.SafePath;
import org.modelpack.csi.modelpack.FileMetadata;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.modelpack.ModelAnnotations;
import org.modelpack.csi.modelpack.ModelMediaTypes;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.ResolvedManifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a fetched manifest into a layer plan, rejecting anything unsafe before a single byte is
 * downloaded: non-model artifacts, unknown layer types, bad digests, sizes that are negative or
 * beyond {@link Descriptor#MAX_SIZE} (alone or summed), raw paths that would leave the model
 * directory or that no filesystem could hold, and two raw layers claiming one path. Artifact
 * text quoted in an error is a bounded excerpt.
 */
public final class PullPlanner {
  private static final Logger log = LoggerFactory.getLogger(PullPlanner.class);

  public PullPlan plan(ResolvedManifest resolved) {
    return plan(resolved, LayerFilter.NONE);
  }

  /**
   * Plans only the layers {@code filter} keeps. Every layer is checked first, kept or not: an
   * unsafe artifact is refused whatever the volume asks of it.
   */
  public PullPlan plan(ResolvedManifest resolved, LayerFilter filter) {
    Manifest m = resolved.manifest();
    String ref = resolved.reference().toString();
    if (!ModelMediaTypes.isModelManifest(m)) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "reference " + ref
          + " is not a ModelPack model artifact (artifactType " + Excerpt.of(m.artifactType())
          + ", config media type " + Excerpt.of(m.config() == null ? null
              : m.config().mediaType()) + ")");
    }
    Path probeRoot = Path.of("/nonexistent-model-root");
    List<LayerPlan> plans = new ArrayList<>();
    Map<String, Integer> rawPaths = new HashMap<>();
    int index = 0;
    long total = 0;
    for (Descriptor layer : m.layers()) {
      try {
        Digest.parse(layer.digest());
        if (layer.size() < 0) {
          throw new IllegalArgumentException("negative size " + layer.size());
        }
        if (layer.size() > Descriptor.MAX_SIZE) {
          throw new IllegalArgumentException("declared size " + layer.size() + " is more than "
              + "the " + ByteSize.format(Descriptor.MAX_SIZE) + " a layer may have");
        }
        total += layer.size(); // cannot overflow: each term is at most 2^50, checked below
        if (total > Descriptor.MAX_SIZE) {
          throw new IllegalArgumentException("the layers up to this one declare " + total
              + " bytes, more than the " + ByteSize.format(Descriptor.MAX_SIZE)
              + " a model may have");
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
            throw new IllegalArgumentException("path '" + Excerpt.of(path)
                + "' is also claimed by layer " + other);
          }
        }
        plans.add(new LayerPlan(index, layer, format, path, meta));
      } catch (Exception e) {
        throw new DriverException(ErrorKind.INVALID_ARGUMENT, "model " + ref + ": layer " + index
            + " (" + Excerpt.of(layer.digest(), 100) + ", " + Excerpt.of(layer.mediaType(), 100)
            + ") is not acceptable: " + Excerpt.of(e.getMessage(), 600), e);
      }
      index++;
    }
    LayerFilter.Compiled compiled = filter.compile();
    List<LayerPlan> kept = new ArrayList<>();
    for (LayerPlan p : plans) {
      String path = p.path() != null ? p.path()
          : ModelAnnotations.filePath(p.layer()).orElse(null);
      if (compiled.keeps(path, p.format() != LayerFormat.RAW)) {
        kept.add(p);
      } else if (path == null) {
        log.warn("model {}: layer {} ({}) has no file path annotation; left out because the "
            + "volume filters layers ({})", ref, p.index(), p.layer().digest(), filter);
      } else {
        log.debug("model {}: layer {} ({}) left out by {}", ref, p.index(), path, filter);
      }
    }
    return new PullPlan(resolved.reference(), resolved.digest(), kept, resolved.raw(), filter,
        plans.size() - kept.size());
  }
}
