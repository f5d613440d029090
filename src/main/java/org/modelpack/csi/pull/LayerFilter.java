package org.modelpack.csi.pull;

import java.util.List;

/**
 * Which layers of a model a volume leaves out: the {@code exclude-model-weights} and
 * {@code exclude-file-patterns} volume attributes, with the Go driver's semantics
 * (docs/decisions/0401):
 * <ol>
 *   <li>nothing is filtered unless weights are excluded or there is at least one pattern;</li>
 *   <li>when filtering, a layer without a file path is left out;</li>
 *   <li>the patterns are evaluated in order, the last match wins and {@code !} re-includes; a
 *       matching pattern's verdict is final;</li>
 *   <li>otherwise, with weights excluded, weight files are left out: {@code *.safetensors} and
 *       {@code model.safetensors.index.json}.</li>
 * </ol>
 *
 * @param filePatterns the patterns as given (recorded in the volume's status)
 */
public record LayerFilter(boolean excludeModelWeights, List<String> filePatterns) {
  public static final LayerFilter NONE = new LayerFilter(false, List.of());
  static final String WEIGHT_EXTENSION = ".safetensors";
  static final String WEIGHT_INDEX = "model.safetensors.index.json";

  /** @throws IllegalArgumentException if a pattern cannot be compiled */
  public LayerFilter {
    filePatterns = filePatterns == null ? List.of() : List.copyOf(filePatterns);
    ExclusionPatterns.compile(filePatterns);
  }

  /** True when this filter can leave anything out. */
  public boolean enabled() {
    return excludeModelWeights || !filePatterns.isEmpty();
  }

  /** A compiled, ready-to-use form. */
  public Compiled compile() {
    return new Compiled(this, ExclusionPatterns.compile(filePatterns));
  }

  /** The filter with its patterns compiled once per plan. */
  public record Compiled(LayerFilter filter, ExclusionPatterns patterns) {
    /**
     * Whether the layer at {@code path} is kept.
     *
     * @param path the layer's file path annotation, or null when it has none
     * @param packsTree the layer is a tar archive, whose path may name a directory
     */
    public boolean keeps(String path, boolean packsTree) {
      if (!filter.enabled()) {
        return true;
      }
      if (path == null || path.isBlank()) {
        return false;
      }
      var verdict = patterns.verdict(path, packsTree);
      if (verdict.isPresent()) {
        return !verdict.get();
      }
      return !(filter.excludeModelWeights() && isWeight(path));
    }
  }

  /** A weight file as the Go driver defines it (its PR #13): by name, never by media type. */
  public static boolean isWeight(String path) {
    String name = ExclusionPatterns.normalise(path);
    name = name.substring(name.lastIndexOf('/') + 1);
    return name.endsWith(WEIGHT_EXTENSION) || name.equals(WEIGHT_INDEX);
  }

  @Override
  public String toString() {
    return enabled() ? "exclude-model-weights=" + excludeModelWeights
        + " exclude-file-patterns=" + filePatterns : "no exclusions";
  }
}
