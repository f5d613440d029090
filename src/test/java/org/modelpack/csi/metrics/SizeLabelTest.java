package org.modelpack.csi.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SizeLabelTest {
  private static final long MIB = 1L << 20;

  @Test
  void layerGetsTheSmallestPowerOfTwoMibBucketThatHoldsIt() {
    assertThat(SizeLabel.of(1)).isEqualTo("1.0 MiB");
    assertThat(SizeLabel.of(MIB)).isEqualTo("1.0 MiB");
    assertThat(SizeLabel.of(MIB + 1)).isEqualTo("2.0 MiB");
    assertThat(SizeLabel.of(10 * MIB)).isEqualTo("16 MiB");
    assertThat(SizeLabel.of(600 * MIB)).isEqualTo("1.0 GiB");
    assertThat(SizeLabel.of(20L << 30)).isEqualTo("32 GiB");
    assertThat(SizeLabel.of(MIB << SizeLabel.LARGEST_BUCKET_EXPONENT)).isEqualTo("8.0 TiB");
  }

  @Test
  void layerAboveTheLargestBucketIsInf() {
    assertThat(SizeLabel.of((MIB << SizeLabel.LARGEST_BUCKET_EXPONENT) + 1)).isEqualTo("+Inf");
  }

  @Test
  void writesSizesAsGoHumanizeIBytesDoes() {
    assertThat(SizeLabel.iBytes(5)).isEqualTo("5 B");
    assertThat(SizeLabel.iBytes(1536)).isEqualTo("1.5 KiB");
    assertThat(SizeLabel.iBytes(512 * MIB)).isEqualTo("512 MiB");
  }
}
