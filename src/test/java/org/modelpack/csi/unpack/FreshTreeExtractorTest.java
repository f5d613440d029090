package org.modelpack.csi.unpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * The store's extraction of a tar layer into a fresh directory (docs/decisions/0203). A refused
 * layer writes nothing beside the directory and never places the entry it was refused for;
 * what earlier entries placed stays for the caller to delete with the directory, as
 * {@code store.Ingester} does (HostileArtifactIT checks the store's ingest/ is left empty).
 */
class FreshTreeExtractorTest {
  private static final String DIGEST = "sha256:" + "1".repeat(64);

  @TempDir Path tmp;
  /** The fresh directory, as the store's Ingester makes it. */
  Path root;
  /** Where an escaping entry would land. */
  Path outside;
  Path blobs;
  int blobCounter;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("fresh"));
    outside = Files.createDirectory(tmp.resolve("outside"));
    blobs = Files.createDirectory(tmp.resolve("blobs"));
  }

  private Path blob(TestTar tar, LayerFormat format) throws IOException {
    return tar.writeTo(blobs.resolve("layer" + (blobCounter++)), format);
  }

  private long extract(Path blob, LayerFormat format) throws IOException {
    return FreshTreeExtractor.extract(blob, format, root, DIGEST,
        ExpansionBudget.unlimited(DIGEST));
  }

  private long extract(TestTar tar) throws IOException {
    return extract(blob(tar, LayerFormat.TAR), LayerFormat.TAR);
  }

  /** What the caller does after a failure: the next layer gets a fresh directory again. */
  private void freshRootAgain() throws IOException {
    FileTrees.delete(root);
    Files.createDirectory(root);
  }

  private static String perms(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  /**
   * After a refused layer: the root holds exactly what the entries before the refused one
   * placed, and nothing appeared beside it.
   */
  private void assertRootHoldsOnly(String... placed) {
    assertThat(Trees.list(root)).containsExactly(placed);
    assertThat(Trees.list(outside)).isEmpty();
    assertThat(Trees.list(tmp)).allMatch(p -> p.startsWith("fresh") || p.startsWith("outside")
        || p.startsWith("blobs"));
  }

  /** Directories, nested files of several modes: a layer as models ship them. */
  private static TestTar sample() {
    return new TestTar()
        .dir("weights", 0755)
        .file("weights/model-00001.safetensors", "AAAA", 0644)
        .file("weights/shard/part2.bin", "BBBB", 0640)
        .file("scripts/run.sh", "#!/bin/sh\n", 0755)
        .file("README.md", "hello");
  }

  private static final List<String> SAMPLE_TREE = List.of("README.md", "scripts",
      "scripts/run.sh", "weights", "weights/model-00001.safetensors", "weights/shard",
      "weights/shard/part2.bin");

  @ParameterizedTest
  @EnumSource(value = LayerFormat.class, names = {"TAR", "TAR_GZIP", "TAR_ZSTD"})
  void extractsEveryArchiveFormatWithNestedDirectoriesModesAndMtimesAndCountsItsFiles(
      LayerFormat format) throws Exception {
    long files = extract(blob(sample(), format), format);

    assertThat(files).isEqualTo(4);
    assertThat(Trees.list(root)).isEqualTo(SAMPLE_TREE); // no temporary file left either
    assertThat(Files.readString(root.resolve("weights/shard/part2.bin"))).isEqualTo("BBBB");
    assertThat(perms(root.resolve("scripts/run.sh"))).isEqualTo("rwxr-xr-x");
    assertThat(perms(root.resolve("weights/shard/part2.bin"))).isEqualTo("rw-r-----");
    assertThat(perms(root.resolve("weights/shard"))).isEqualTo("rwxr-xr-x");
    assertThat(Files.getLastModifiedTime(root.resolve("README.md"))).isEqualTo(FileTime.from(TestTar.MTIME));
    assertThat(Files.getLastModifiedTime(root.resolve("weights"))).isEqualTo(FileTime.from(TestTar.MTIME));
  }

  @Test
  void gzipWithConcatenatedMembersAndZstdWithConcatenatedFramesAreReadCompletely()
      throws Exception {
    Map<LayerFormat, Path> concatenated = Map.of(
        LayerFormat.TAR_GZIP, sample().writeMultiMemberGzip(blobs.resolve("multi.tar.gz")),
        LayerFormat.TAR_ZSTD, sample().writeMultiFrameZstd(blobs.resolve("multi.tar.zst")));
    for (Map.Entry<LayerFormat, Path> layer : concatenated.entrySet()) {
      assertThat(extract(layer.getValue(), layer.getKey())).as(layer.getKey().toString())
          .isEqualTo(4);
      assertThat(Trees.list(root)).isEqualTo(SAMPLE_TREE);
      assertThat(Files.readString(root.resolve("README.md"))).isEqualTo("hello");
      freshRootAgain();
    }
  }

  @Test
  void gnuAndPaxLongNamesAreHonoured() throws Exception {
    String longName = "deep/" + "d".repeat(120) + "/" + "f".repeat(130) + ".bin";
    TestTar tar = new TestTar().file(longName, "long");
    extract(tar.writeTarWithLongFileMode(blobs.resolve("gnu.tar"),
        TarArchiveOutputStream.LONGFILE_GNU), LayerFormat.TAR);
    assertThat(Files.readString(root.resolve(longName))).isEqualTo("long");

    freshRootAgain();
    extract(tar.writeTarWithLongFileMode(blobs.resolve("pax.tar"),
        TarArchiveOutputStream.LONGFILE_POSIX), LayerFormat.TAR);
    assertThat(Files.readString(root.resolve(longName))).isEqualTo("long");
  }

  @Test
  void leadingDotSlashAndTheArchiveRootEntryAreAcceptedAndTheRootKeepsItsMode() throws Exception {
    String rootMode = perms(root);
    TestTar tar = new TestTar().dir("./", 0700).dir("./cfg", 0755).file("./cfg/a.json", "{}");
    assertThat(extract(tar)).isEqualTo(1);
    assertThat(Trees.list(root)).containsExactly("cfg", "cfg/a.json");
    assertThat(perms(root)).isEqualTo(rootMode).isNotEqualTo("rwx------");
  }

  @Test
  void readOnlyDirectoryEntryGetsItsModeOnlyAfterItsChildren() throws Exception {
    TestTar tar = new TestTar().dir("ro", 0555).file("ro/inner.txt", "x", 0444);
    extract(tar);
    assertThat(perms(root.resolve("ro"))).isEqualTo("r-xr-xr-x");
    assertThat(Files.readString(root.resolve("ro/inner.txt"))).isEqualTo("x");
  }

  @Test
  void aDirectoryEntryAfterItsChildrenStillGetsItsModeAndMtime() throws Exception {
    TestTar tar = new TestTar().file("late/x", "x").dir("late", 0700);
    extract(tar);
    assertThat(perms(root.resolve("late"))).isEqualTo("rwx------");
    assertThat(Files.getLastModifiedTime(root.resolve("late"))).isEqualTo(FileTime.from(TestTar.MTIME));
  }

  @Test
  void parentTraversalEntryIsRejectedNamingItAndTheLayerAndNothingLandsOutside() throws Exception {
    TestTar tar = new TestTar().file("good/ok.txt", "ok").file("../outside/evil.txt", "pwned");
    assertThatThrownBy(() -> extract(tar))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("../outside/evil.txt")
        .hasMessageContaining(DIGEST);
    assertRootHoldsOnly("good", "good/ok.txt");
  }

  @Test
  void absoluteEntryIsRejected() throws Exception {
    String abs = outside.resolve("evil.txt").toString();
    for (String name : new String[] {abs, "/evil.txt", "C:/evil.txt"}) {
      TestTar tar = new TestTar().file("a.txt", "a").verbatimFile(name, "pwned");
      assertThatThrownBy(() -> extract(tar)).as(name)
          .isInstanceOf(UnsafePathException.class)
          .hasMessageContaining(name);
      assertRootHoldsOnly("a.txt");
      freshRootAgain();
    }
  }

  @Test
  void symlinkEscapingTheRootIsRejected() throws Exception {
    for (String target : new String[] {"../outside", "../../etc/passwd", "/etc/passwd", "a/../../x", "sub/../.."}) {
      TestTar tar = new TestTar().file("keep.txt", "x").symlink("link", target);
      assertThatThrownBy(() -> extract(tar))
          .as(target)
          .isInstanceOf(UnsafePathException.class)
          .hasMessageContaining("'link'")
          .hasMessageContaining(DIGEST);
      assertRootHoldsOnly("keep.txt");
      freshRootAgain();
    }
  }

  @Test
  void chainedSymlinkTrickWithDotDotAfterANameIsRejected() throws Exception {
    // a/b/s -> ../../c is inside; t -> a/b/s/../../.. would look inside lexically but the
    // kernel resolves s first and ends above the root.
    TestTar tar = new TestTar().dir("c", 0755).dir("a/b", 0755)
        .symlink("a/b/s", "../../c").symlink("t", "a/b/s/../../..");
    assertThatThrownBy(() -> extract(tar)).isInstanceOf(UnsafePathException.class).hasMessageContaining("'t'");
    assertRootHoldsOnly("a", "a/b", "a/b/s", "c");
  }

  @Test
  void symlinkInsideTheRootIsCreatedAndNotCountedAsAFile() throws Exception {
    TestTar tar = new TestTar().file("weights/v1/model.bin", "m").symlink("weights/current", "v1")
        .symlink("top", "weights/v1/model.bin").symlink("weights/v1/up", "../../top");
    assertThat(extract(tar)).isEqualTo(1);
    assertThat(Files.readSymbolicLink(root.resolve("weights/current"))).isEqualTo(Path.of("v1"));
    assertThat(Files.readString(root.resolve("top"))).isEqualTo("m");
  }

  @Test
  void entriesAreNeverWrittenThroughASymlinkFromTheSameArchive() throws Exception {
    TestTar tar = new TestTar().dir("real", 0755).symlink("d", "real").file("d/x.txt", "x");
    assertThatThrownBy(() -> extract(tar)).isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("symlink");
    assertRootHoldsOnly("d", "real");
  }

  @Test
  void hardlinkToAnEarlierFileOfTheSameLayerIsCreatedAndCounted() throws Exception {
    TestTar tar = new TestTar().file("a/orig.bin", "data", 0600).hardlink("b/copy.bin", "a/orig.bin");
    assertThat(extract(tar)).isEqualTo(2);
    assertThat(Files.readString(root.resolve("b/copy.bin"))).isEqualTo("data");
    assertThat(Files.isSameFile(root.resolve("a/orig.bin"), root.resolve("b/copy.bin"))).isTrue();
  }

  @Test
  void hardlinkEscapingTheRootIsRejected() throws Exception {
    Files.writeString(outside.resolve("secret"), "s");
    TestTar tar = new TestTar().file("x", "x").hardlink("hl", "../outside/secret");
    assertThatThrownBy(() -> extract(tar))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("'hl'")
        .hasMessageContaining("../outside/secret");
    assertThat(Trees.list(root)).containsExactly("x");
    assertThat(Trees.list(outside)).containsExactly("secret");
    assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("s");
  }

  @Test
  void aHardLinkMustNameARegularFileTheLayerPlacedEarlier() throws Exception {
    record Case(TestTar tar, String... placed) {}
    for (Case c : List.of(
        new Case(new TestTar().file("a/x", "x").hardlink("hl", "a"), "a", "a/x"),
        new Case(new TestTar().file("a/x", "x").symlink("s", "a/x").hardlink("hl", "s"),
            "a", "a/x", "s"),
        new Case(new TestTar().file("a/x", "x").hardlink("hl", "a/missing"), "a", "a/x"),
        new Case(new TestTar().hardlink("hl", "later").file("later", "l")))) {
      assertThatThrownBy(() -> extract(c.tar())).isInstanceOf(UnsafePathException.class)
          .hasMessageContaining("'hl'")
          .hasMessageContaining("is not a regular file extracted earlier from this layer");
      assertRootHoldsOnly(c.placed());
      freshRootAgain();
    }
  }

  @Test
  void aPathTheLayerNamesTwiceIsAConflictNamingTheLayerAndTheFirstEntryStays() throws Exception {
    for (TestTar tar : List.of(
        new TestTar().file("a.txt", "1").file("a.txt", "2"),
        new TestTar().file("a.txt", "1").symlink("a.txt", "b"),
        new TestTar().file("b", "b").file("a.txt", "1").hardlink("a.txt", "b"))) {
      assertThatThrownBy(() -> extract(tar))
          .isInstanceOf(ConflictingPathException.class)
          .hasMessage("path a.txt is provided twice by layer " + DIGEST);
      assertThat(Files.readString(root.resolve("a.txt"))).isEqualTo("1");
      freshRootAgain();
    }
    TestTar fileOverDirectory = new TestTar().dir("a.txt", 0755).file("a.txt", "1");
    assertThatThrownBy(() -> extract(fileOverDirectory))
        .isInstanceOf(ConflictingPathException.class)
        .hasMessage("path a.txt is provided twice by layer " + DIGEST);
    assertThat(root.resolve("a.txt")).isDirectory();
  }

  @Test
  void devicesAndFifosAreSkipped() throws Exception {
    TestTar tar = new TestTar().special("dev/null", TarConstants.LF_CHR)
        .special("dev/sda", TarConstants.LF_BLK).special("pipe", TarConstants.LF_FIFO).file("ok", "ok");
    assertThat(extract(tar)).isEqualTo(1);
    assertThat(Trees.list(root)).containsExactly("ok");
  }

  @Test
  void rawFormatIsNotAcceptedByTheExtractor() {
    assertThatThrownBy(() -> extract(blobs.resolve("x"), LayerFormat.RAW))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
