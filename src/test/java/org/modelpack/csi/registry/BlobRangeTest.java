package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BlobRangeTest {
  @Test
  void contentRangeIsParsed() {
    assertThat(BlobRange.contentRange("bytes 100-199/1000")).containsExactly(100, 199, 1000);
    assertThat(BlobRange.contentRange("bytes 0-9/*")).containsExactly(0, 9, -1);
    assertThat(BlobRange.contentRange("bytes */1000")).isNull();
    assertThat(BlobRange.contentRange("100-199/1000")).isNull();
    assertThat(BlobRange.contentRange(null)).isNull();
  }
}
