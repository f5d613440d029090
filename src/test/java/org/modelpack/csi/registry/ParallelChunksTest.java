package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ParallelChunksTest {
  @Test
  void aboutEightChunksPerConnectionBetweenOneAnd64MiB() {
    assertThat(RegistryClient.chunkSize(1L << 30, 4)).isEqualTo(32L << 20);
    assertThat(RegistryClient.chunkSize(300L << 20, 4)).isEqualTo((300L << 20) / 32);
    assertThat(RegistryClient.chunkSize(8_000_000, 4)).isEqualTo(1L << 20);
    assertThat(RegistryClient.chunkSize(100L << 30, 4)).isEqualTo(64L << 20);
    assertThat(RegistryClient.chunkSize(1L << 30, 16)).isEqualTo(8L << 20);
  }
}
