package org.modelpack.csi.registry;

import java.util.List;
import java.util.Set;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;

/**
 * Picks the model manifest out of an image index. ModelPack defines no index, but registries
 * and tools may wrap an artifact in one (e.g. next to signatures or other platforms).
 */
final class ManifestSelector {
  static final Set<String> MODEL_ARTIFACT_TYPES = Set.of(
      "application/vnd.cncf.model.manifest.v1+json",
      "application/vnd.cnai.model.manifest.v1+json");

  private ManifestSelector() { }

  /**
   * The first entry with a model artifactType, else the only entry; anything else is
   * ambiguous and refused rather than guessed. Refused as an artifact this driver does not
   * serve (INVALID_ARGUMENT), like a manifest that is not a model (docs/decisions/0823).
   */
  static Descriptor select(String subject, Manifest index) throws RegistryException {
    List<Descriptor> entries = index.manifests();
    for (Descriptor d : entries) {
      if (d.artifactType() != null && MODEL_ARTIFACT_TYPES.contains(d.artifactType())) {
        return d;
      }
    }
    if (entries.size() == 1) {
      return entries.get(0);
    }
    throw new RegistryException(RegistryException.Kind.INVALID_ARGUMENT,
        "index " + subject + " is not a ModelPack model artifact: it has " + entries.size()
            + " entries and none has a model artifactType (" + String.join(" or ",
                MODEL_ARTIFACT_TYPES.stream().sorted().toList()) + ")");
  }
}
