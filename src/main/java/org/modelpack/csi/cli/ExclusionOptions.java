package org.modelpack.csi.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The exclusion flags of the commands that pull a model (in-pod {@code mount}, {@code store
 * pull}), named and meant as the volume attributes of the same names.
 */
final class ExclusionOptions {
  @Option(names = "--exclude-model-weights",
      description = "Leave out the model's weight files, as the exclude-model-weights volume "
          + "attribute")
  boolean excludeModelWeights;

  @Option(names = "--exclude-file-pattern", paramLabel = "PATTERN",
      description = "Leave out files matching this gitignore-style pattern, as one entry of the "
          + "exclude-file-patterns volume attribute (repeatable, in order; '!PATTERN' keeps a "
          + "file back in)")
  List<String> excludeFilePatterns = new ArrayList<>();
}
