package org.modelpack.csi.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.volume.VolumeIds;

class ProvisionedVolumeIdTest {
  static final Map<String, String> PARAMS = Map.of("svc/reference", "r/m:v1");

  @Test
  void theSameRequestGetsTheSameIdAndAnyDifferenceAnotherOne() {
    String id = ProvisionedVolumeId.of("pvc-1", PARAMS, 10, false).id();
    assertThat(id).matches("pvc-1\\.ro\\.[0-9a-f]{16}")
        .isEqualTo(ProvisionedVolumeId.of("pvc-1", Map.copyOf(PARAMS), 10, false).id())
        .isNotEqualTo(ProvisionedVolumeId.of("pvc-2", PARAMS, 10, false).id())
        .isNotEqualTo(ProvisionedVolumeId.of("pvc-1", PARAMS, 11, false).id())
        .isNotEqualTo(ProvisionedVolumeId.of("pvc-1", Map.of("svc/reference", "r/m:v2"), 10,
            false).id());
    // Keys and values are delimited: moving text between them changes the id.
    assertThat(ProvisionedVolumeId.of("n", Map.of("ab", "c"), 0, false).id())
        .isNotEqualTo(ProvisionedVolumeId.of("n", Map.of("a", "bc"), 0, false).id());
  }

  @Test
  void idsAreSafeVolumeIdsOfAtMost128CharactersWhateverTheName() {
    for (String name : new String[] {"x".repeat(128), "-lead", "ümlaut/and spaces", ".."}) {
      String id = ProvisionedVolumeId.of(name, PARAMS, 0, true).id();
      assertThat(VolumeIds.isSafe(id)).as(id).isTrue();
      assertThat(id).hasSizeLessThanOrEqualTo(128).contains(".rw.");
      assertThat(ProvisionedVolumeId.parse(id)).get()
          .extracting(ProvisionedVolumeId::writable).isEqualTo(true);
    }
  }

  @Test
  void idsOfAnotherShapeAreNotOurs() {
    assertThat(ProvisionedVolumeId.parse("csi-0123abcd")).isEmpty();
    assertThat(ProvisionedVolumeId.parse("fake-volume-id-1")).isEmpty();
    assertThat(ProvisionedVolumeId.parse("pvc-1.ro.0123")).isEmpty();
    assertThat(ProvisionedVolumeId.parse("pvc-1.ro.0123456789abcdef")).get()
        .extracting(ProvisionedVolumeId::writable).isEqualTo(false);
  }
}
