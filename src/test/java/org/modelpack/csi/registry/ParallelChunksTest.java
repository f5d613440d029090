package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.oci.ByteRun;
import org.modelpack.csi.oci.Descriptor;

class ParallelChunksTest {
  @TempDir Path tmp;

  @Test
  void aboutEightChunksPerConnectionBetweenOneAnd64MiB() {
    assertThat(RangedBlobDownload.chunkSize(1L << 30, 4)).isEqualTo(32L << 20);
    assertThat(RangedBlobDownload.chunkSize(300L << 20, 4)).isEqualTo((300L << 20) / 32);
    assertThat(RangedBlobDownload.chunkSize(8_000_000, 4)).isEqualTo(1L << 20);
    assertThat(RangedBlobDownload.chunkSize(100L << 30, 4)).isEqualTo(64L << 20);
    assertThat(RangedBlobDownload.chunkSize(1L << 30, 16)).isEqualTo(8L << 20);
  }

  @Test
  void anyDeclaredSizeGivesAChunkCountThatFitsAnArray() {
    // 2^62 bytes in 64 MiB chunks was 2^36 chunks, 0 as an int: chunks[0] threw
    // ArrayIndexOutOfBoundsException.
    for (long size : new long[] {1, (4L << 40) + 1, 1L << 50, 1L << 62, Long.MAX_VALUE}) {
      long chunk = RangedBlobDownload.chunkSize(size, 4);
      assertThat(size / chunk + (size % chunk == 0 ? 0 : 1)).as("size %d", size)
          .isBetween(1L, (long) RangedBlobDownload.MAX_CHUNKS);
    }
  }

  @Test
  void aPlanCoversExactlyTheBytesNotHeldInChunksOfOneSize() {
    List<ByteRun> plan = RangedBlobDownload.plan(3_000_000, 8_000_000,
        List.of(new ByteRun(5_000_000, 6_000_000)), 4);
    // 4 MB missing: 1 MiB chunks, each gap cut on its own.
    assertThat(plan).containsExactly(new ByteRun(3_000_000, 4_048_576),
        new ByteRun(4_048_576, 5_000_000), new ByteRun(6_000_000, 7_048_576),
        new ByteRun(7_048_576, 8_000_000));
    assertThat(RangedBlobDownload.plan(0, 100, List.of(), 4))
        .containsExactly(new ByteRun(0, 100));
    assertThat(RangedBlobDownload.plan(10, 100, List.of(new ByteRun(10, 100)), 4)).isEmpty();
  }

  @Test
  void aDescriptorDeclaringMoreThanOnePebibyteIsRefusedBeforeAnyRequest() throws Exception {
    // Port 1 on loopback: nothing listens, so any request would fail as UNAVAILABLE instead.
    try (RegistryClient client = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("no-docker-config")))) {
      Descriptor huge = new Descriptor("application/vnd.cncf.model.weight.v1.raw",
          "sha256:" + "a".repeat(64), 1L << 62, null);
      assertThatThrownBy(() -> client.downloadBlob(Reference.parse("127.0.0.1:1/m/x:v1"), huge,
          tmp.resolve("blob")))
          .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind())
              .isEqualTo(RegistryException.Kind.INVALID_ARGUMENT))
          .hasMessageContaining(String.valueOf(1L << 62));
      assertThat(tmp.resolve("blob")).doesNotExist();
    }
  }
}
