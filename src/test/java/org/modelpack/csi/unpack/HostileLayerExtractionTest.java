package org.modelpack.csi.unpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.unpack.ExpansionLimitException.Bound;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.testing.HostileTar;

/**
 * Layers that are not what they claim, or expand beyond their budget, extracted as the store
 * does ({@link FreshTreeExtractor}): each fails with the exception that says whose fault it is,
 * before writing what it must not. Nothing appears beside the fresh directory, the entry that
 * failed is never placed under its name, and no more is written than the budget allows; what
 * earlier entries placed is the caller's to delete with the directory ({@code store.Ingester};
 * HostileArtifactIT checks the store's ingest/ is left empty).
 */
class HostileLayerExtractionTest {
  private static final String DIGEST = "sha256:" + "4".repeat(64);

  @TempDir Path tmp;
  /** The fresh directory, as the store's Ingester makes it. */
  Path root;
  Path blobs;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("fresh"));
    blobs = Files.createDirectory(tmp.resolve("blobs"));
  }

  private long extract(Path blob, LayerFormat format) throws IOException {
    return extract(blob, format, ExpansionBudget.unlimited(DIGEST));
  }

  private long extract(Path blob, LayerFormat format, ExpansionBudget budget)
      throws IOException {
    return FreshTreeExtractor.extract(blob, format, root, DIGEST, budget);
  }

  /** What the caller does after a failure: the next layer gets a fresh directory again. */
  private void freshRootAgain() throws IOException {
    FileTrees.delete(root);
    Files.createDirectory(root);
  }

  private interface TarWriter {
    void write(HostileTar tar) throws IOException;
  }

  /** A layer blob of {@code format} whose tar stream {@code writer} writes. */
  private Path blob(LayerFormat format, TarWriter writer) throws IOException {
    Path file = blobs.resolve("layer-" + System.nanoTime());
    try (OutputStream raw = Files.newOutputStream(file);
        OutputStream out = switch (format) {
          case TAR -> raw;
          case TAR_GZIP -> new GZIPOutputStream(raw, 64 * 1024);
          case TAR_ZSTD -> new ZstdOutputStream(raw);
          case RAW -> throw new IllegalArgumentException();
        }) {
      writer.write(new HostileTar(out));
    }
    return file;
  }

  private static ExpansionBudget budget(LayerFormat format, Path blob, long space)
      throws IOException {
    return ExpansionBudget.of(DIGEST, format, Files.size(blob), 100, space, "test space");
  }

  /**
   * After a refused layer: the root holds exactly what the entries before the failing one
   * placed, the failing one left nothing, not even a temporary file, and nothing is beside it.
   */
  private void assertRootHoldsOnly(String... placed) {
    assertThat(Trees.list(root)).containsExactly(placed);
    assertNothingBesideTheRoot();
  }

  /**
   * After a layer that failed while an entry was written: its temporary file aside (deleted
   * with the root), the root holds exactly what earlier entries placed.
   */
  private void assertRootHoldsOnlyBesidesATemporaryFile(String... placed) {
    assertThat(Trees.list(root))
        .filteredOn(p -> !Path.of(p).getFileName().toString().startsWith(".modelpack-"))
        .containsExactly(placed);
    assertNothingBesideTheRoot();
  }

  private void assertNothingBesideTheRoot() {
    assertThat(Trees.list(tmp)).allMatch(p -> p.startsWith("fresh") || p.startsWith("blobs"));
  }

  /** Bytes in the regular files under the root, temporary ones included. */
  private long bytesUnderTheRoot() throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  // ------------------------------------------------------------------ not the archive claimed

  @Test
  void bytesThatAreNotGzipAreAMalformedTarGzipLayer() throws Exception {
    Path blob = Files.write(blobs.resolve("noise"), noise(4096));
    assertThatThrownBy(() -> extract(blob, LayerFormat.TAR_GZIP))
        .isInstanceOf(MalformedLayerException.class)
        .hasMessageContaining("layer " + DIGEST + " is not a valid tar+gzip archive: ")
        .hasMessageContaining("Not in GZIP format");
    assertRootHoldsOnly();
  }

  @Test
  void gzipBytesUnderAZstdMediaTypeAreAMalformedTarZstdLayer() throws Exception {
    Path blob = blob(LayerFormat.TAR_GZIP, t -> t.file("a.txt", "a").end());
    assertThatThrownBy(() -> extract(blob, LayerFormat.TAR_ZSTD))
        .isInstanceOf(MalformedLayerException.class)
        .hasMessageContaining("is not a valid tar+zstd archive");
    assertRootHoldsOnly();
  }

  @Test
  void truncatedGzipAndZstdStreamsAreMalformedAndTheCutEntryIsNeverPlaced() throws Exception {
    for (LayerFormat format : new LayerFormat[] {LayerFormat.TAR_GZIP, LayerFormat.TAR_ZSTD}) {
      Path full = blob(format, t -> t.file("first.txt", "first")
          .header("second.bin", (byte) '0', 200_000).data(noise(200_000)).end());
      byte[] bytes = Files.readAllBytes(full);
      Path cut = Files.write(blobs.resolve("cut"), Arrays.copyOf(bytes, bytes.length / 2));
      assertThatThrownBy(() -> extract(cut, format))
          .as(format.toString())
          .isInstanceOf(MalformedLayerException.class)
          .hasMessageContaining("is not a valid " + format.variant() + " archive");
      assertRootHoldsOnlyBesidesATemporaryFile("first.txt");
      freshRootAgain();
    }
  }

  @Test
  void corruptHeadersAndTruncatedPlainTarsAreMalformedAndTheBadEntryIsNeverPlaced()
      throws Exception {
    Path badChecksum = blob(LayerFormat.TAR, t -> t.file("ok.txt", "ok")
        .headerWithBadChecksum("bad.txt", 3).data(new byte[] {1, 2, 3}).end());
    Path badNumber = blob(LayerFormat.TAR, t -> t.file("ok.txt", "ok")
        .headerWithSizeField("bad.txt", (byte) '0', "12z45".getBytes()).end());
    Path truncated = blob(LayerFormat.TAR, t -> t.file("ok.txt", "ok")
        .header("short.bin", (byte) '0', 100_000).data(1000, (byte) 1));
    for (Path blob : new Path[] {badChecksum, badNumber, truncated}) {
      assertThatThrownBy(() -> extract(blob, LayerFormat.TAR))
          .as(blob.toString())
          .isInstanceOf(MalformedLayerException.class)
          .hasMessageContaining("is not a valid tar archive");
      assertRootHoldsOnlyBesidesATemporaryFile("ok.txt");
      freshRootAgain();
    }
  }

  @Test
  void aLocalReadErrorIsNotBlamedOnTheArtifact() throws Exception {
    Path directory = Files.createDirectory(blobs.resolve("not-a-file"));
    assertThatThrownBy(() -> extract(directory, LayerFormat.TAR_GZIP))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(MalformedLayerException.class);
  }

  // ------------------------------------------------------------------ expansion

  @Test
  void aGzipBombFailsAtItsRatioBoundNamingTheLayerItsSizeAndTheBoundBeforeWritingAByte()
      throws Exception {
    Path bomb = blob(LayerFormat.TAR_GZIP, t -> t.header("zeros.bin", (byte) '0', 64L << 20)
        .data(64L << 20, (byte) 0).end());
    long compressed = Files.size(bomb);
    assertThat(compressed).isLessThan(200_000);
    assertThatThrownBy(() -> extract(bomb, LayerFormat.TAR_GZIP,
        budget(LayerFormat.TAR_GZIP, bomb, Long.MAX_VALUE)))
        .isInstanceOfSatisfying(ExpansionLimitException.class,
            e -> assertThat(e.bound()).isEqualTo(Bound.ARCHIVE))
        .hasMessageContaining("layer " + DIGEST)
        .hasMessageContaining("tar entry 'zeros.bin' declares 64.0 MiB")
        .hasMessageContaining("pull_config.max_expansion_ratio 100 × its compressed size of");
    assertRootHoldsOnly();
  }

  @Test
  void aBombSpreadOverManyEntriesFailsWhenTheirSumCrossesTheBoundHavingWrittenNoMore()
      throws Exception {
    Path bomb = blob(LayerFormat.TAR_ZSTD, t -> {
      for (int i = 0; i < 400; i++) {
        t.header("part-" + i, (byte) '0', 64 * 1024).data(64 * 1024, (byte) 0);
      }
      t.end();
    });
    long bound = Math.max(ExpansionBudget.ARCHIVE_FLOOR, 100 * Files.size(bomb));
    assertThat(bound).isLessThan(400 * 64 * 1024);
    assertThatThrownBy(() -> extract(bomb, LayerFormat.TAR_ZSTD,
        budget(LayerFormat.TAR_ZSTD, bomb, Long.MAX_VALUE)))
        .isInstanceOfSatisfying(ExpansionLimitException.class,
            e -> assertThat(e.bound()).isEqualTo(Bound.ARCHIVE));
    assertThat(bytesUnderTheRoot()).isPositive().isLessThanOrEqualTo(bound);
    assertThat(root.resolve("part-399")).doesNotExist();
    assertNothingBesideTheRoot();
  }

  @Test
  void anEntryDeclaring2To62BytesFailsBeforeAnythingIsWritten() throws Exception {
    Path liar = blob(LayerFormat.TAR, t -> t.file("ok.txt", "ok")
        .header("huge.bin", (byte) '0', 1L << 62).data(1000, (byte) 7).end());
    Path paxLiar = blob(LayerFormat.TAR_GZIP, t -> t.pax("size=" + (1L << 62))
        .header("huge.bin", (byte) '0', 10).data(10, (byte) 7).end());
    for (Path blob : new Path[] {liar, paxLiar}) {
      LayerFormat format = blob == liar ? LayerFormat.TAR : LayerFormat.TAR_GZIP;
      assertThatThrownBy(() -> extract(blob, format, budget(format, blob, Long.MAX_VALUE)))
          .isInstanceOfSatisfying(ExpansionLimitException.class,
              e -> assertThat(e.bound()).isEqualTo(Bound.ARCHIVE))
          .hasMessageContaining("'huge.bin' declares 4096.0 PiB (" + (1L << 62) + " bytes)");
      if (blob == liar) {
        assertRootHoldsOnly("ok.txt");
      } else {
        assertRootHoldsOnly();
      }
      freshRootAgain();
    }
  }

  @Test
  void aLayerNeedingMoreThanTheSpaceItHasFailsAsShortOfSpaceBeforeTheEntryThatDoesNotFit()
      throws Exception {
    // Incompressible, so the ratio bound is far away; 3 × 100 KB against 250 KB of space.
    Path layer = blob(LayerFormat.TAR_GZIP, t -> {
      for (int i = 0; i < 3; i++) {
        t.header("w-" + i + ".bin", (byte) '0', 100_000).data(noise(100_000));
      }
      t.end();
    });
    assertThatThrownBy(() -> extract(layer, LayerFormat.TAR_GZIP,
        budget(LayerFormat.TAR_GZIP, layer, 250_000)))
        .isInstanceOfSatisfying(ExpansionLimitException.class,
            e -> assertThat(e.bound()).isEqualTo(Bound.SPACE))
        .hasMessageContaining("'w-2.bin' declares 97.7 KiB")
        .hasMessageContaining("more than the 48.8 KiB (50000 bytes) of space left")
        .hasMessageContaining("(test space)");
    assertRootHoldsOnly("w-0.bin", "w-1.bin");
    assertThat(bytesUnderTheRoot()).isEqualTo(200_000);
  }

  @Test
  void aTinyLayerPaddedByTarIsNeverRefusedForItsRatio() throws Exception {
    // One short file in 10 KiB tar records: over 60 times its gzip size, far under the floor.
    Path tiny = blob(LayerFormat.TAR_GZIP, t -> t.file("README.md", "hi").end()
        .data(8 * 1024, (byte) 0));
    ExpansionBudget strict = ExpansionBudget.of(DIGEST, LayerFormat.TAR_GZIP, Files.size(tiny),
        2, Long.MAX_VALUE, "test space");
    assertThat(extract(tiny, LayerFormat.TAR_GZIP, strict)).isEqualTo(1);
    assertThat(Trees.list(root)).containsExactly("README.md");
  }

  // ------------------------------------------------------------------ metadata held in memory

  @Test
  void longNamesAndPaxRecordsOverOneMebibyteAreMalformedBeforeTheyAreHeldInMemory()
      throws Exception {
    Path longName = blob(LayerFormat.TAR_GZIP, t -> t.gnuLongName(64L << 20, (byte) 'a')
        .file("x", "x").end());
    Path paxRecord = blob(LayerFormat.TAR_ZSTD, t -> t.paxComment(64L << 20)
        .file("x", "x").end());
    for (Path blob : new Path[] {longName, paxRecord}) {
      LayerFormat format = blob == longName ? LayerFormat.TAR_GZIP : LayerFormat.TAR_ZSTD;
      assertThatThrownBy(() -> extract(blob, format))
          .isInstanceOf(MalformedLayerException.class)
          .hasMessageContaining("the metadata of one tar entry");
      assertRootHoldsOnly();
      freshRootAgain();
    }
  }

  @Test
  void aSparseEntryIsUnsupportedNamingTheEntry() throws Exception {
    Path sparse = blob(LayerFormat.TAR, t -> t.file("ok.txt", "ok")
        .header("holes.bin", (byte) 'S', 0).end());
    assertThatThrownBy(() -> extract(sparse, LayerFormat.TAR))
        .isInstanceOf(UnsupportedEntryException.class)
        .hasMessageContaining("tar entry 'holes.bin' is a sparse file");
    assertRootHoldsOnly("ok.txt");
  }

  private static byte[] noise(int n) {
    byte[] b = new byte[n];
    new SplittableRandom(n).nextBytes(b);
    return b;
  }
}
