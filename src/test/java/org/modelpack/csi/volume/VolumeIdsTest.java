package org.modelpack.csi.volume;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modelpack.csi.error.DriverException;

class VolumeIdsTest {
  @Test
  void kubeletInlineVolumeIdsAreAccepted() {
    assertThatCode(() -> VolumeIds.requireSafe(
        "csi-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
        .doesNotThrowAnyException();
    assertThatCode(() -> VolumeIds.requireSafe("pvc-1b2c3d4e-aaaa-bbbb-cccc-0123456789ab"))
        .doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "../x", "a/b", "/abs", ".hidden", "-x", "a b", "a\u0000b"})
  void idsThatAreNotASafePathSegmentAreRejected(String id) {
    assertThatThrownBy(() -> VolumeIds.requireSafe(id)).isInstanceOf(DriverException.class)
        .hasMessageContaining("volume_id");
  }
}
