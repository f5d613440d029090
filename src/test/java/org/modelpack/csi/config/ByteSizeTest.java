package org.modelpack.csi.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteSizeTest {
  @Test
  void parsesBinaryAndDecimalUnits() {
    assertThat(ByteSize.parse("10TiB")).isEqualTo(10L << 40);
    assertThat(ByteSize.parse("500GB")).isEqualTo(500_000_000_000L);
    assertThat(ByteSize.parse("1.5 GiB")).isEqualTo(3L << 29);
    assertThat(ByteSize.parse("4096")).isEqualTo(4096);
  }

  @Test
  void rejectsUnknownUnits() {
    assertThatThrownBy(() -> ByteSize.parse("5 parsecs")).hasMessageContaining("unknown unit");
  }

  @Test
  void formatsHumanSizes() {
    assertThat(ByteSize.format(512)).isEqualTo("512 B");
    assertThat(ByteSize.format(3L << 29)).isEqualTo("1.5 GiB");
  }
}
