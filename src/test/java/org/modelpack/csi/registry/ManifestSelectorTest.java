package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;

class ManifestSelectorTest {
  private static Descriptor entry(char c, String artifactType) {
    return new Descriptor(Manifest.OCI_MANIFEST, "sha256:" + String.valueOf(c).repeat(64), 10,
        null, artifactType);
  }

  private static Manifest index(Descriptor... entries) {
    return new Manifest(2, Manifest.OCI_INDEX, null, null, null, List.of(entries), null);
  }

  @Test
  void entryWithModelArtifactTypeWinsOverOthers() throws Exception {
    Descriptor model = entry('b', "application/vnd.cnai.model.manifest.v1+json");
    assertThat(ManifestSelector.select("i", index(entry('a', null), model))).isEqualTo(model);
  }

  @Test
  void onlyEntryIsChosenEvenWithoutArtifactType() throws Exception {
    Descriptor only = entry('a', null);
    assertThat(ManifestSelector.select("i", index(only))).isEqualTo(only);
  }

  @Test
  void severalEntriesWithoutModelTypeAreRefusedAsAnArtifactThatIsNotAModel() {
    assertThatThrownBy(() -> ManifestSelector.select("reg/x:v1",
        index(entry('a', null), entry('b', "application/other"))))
        .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind())
            .isEqualTo(RegistryException.Kind.INVALID_ARGUMENT))
        .hasMessageContaining("is not a ModelPack model artifact")
        .hasMessageContaining("reg/x:v1")
        .hasMessageContaining("application/vnd.cncf.model.manifest.v1+json");
  }
}
