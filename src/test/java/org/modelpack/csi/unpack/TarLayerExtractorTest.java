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
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.modelpack.csi.modelpack.LayerFormat;

class TarLayerExtractorTest {
  private static final String DIGEST = "sha256:" + "1".repeat(64);
  private static final String OTHER = "sha256:" + "2".repeat(64);

  @TempDir Path tmp;
  Path root;
  Path outside;
  Path blobs;
  int blobCounter;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("model"));
    outside = Files.createDirectory(tmp.resolve("outside"));
    blobs = Files.createDirectory(tmp.resolve("blobs"));
  }

  private Path blob(TestTar tar, LayerFormat format) throws IOException {
    return tar.writeTo(blobs.resolve("layer" + (blobCounter++)), format);
  }

  private List<String> extract(TestTar tar) throws IOException {
    return TarLayerExtractor.extract(blob(tar, LayerFormat.TAR), LayerFormat.TAR, root, DIGEST);
  }

  private static String perms(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  /** After a rejected layer: the root is as before and nothing appeared outside it. */
  private void assertNothingLeaked(List<String> rootBefore) {
    assertThat(Trees.list(root)).isEqualTo(rootBefore);
    assertThat(Trees.list(outside)).isEmpty();
    assertThat(Trees.list(tmp)).allMatch(p -> p.startsWith("model") || p.startsWith("outside")
        || p.startsWith("blobs"));
  }

  /** Directories, nested files of several modes: a layer as models ship them. */
  static TestTar sample() {
    return new TestTar()
        .dir("weights", 0755)
        .file("weights/model-00001.safetensors", "AAAA", 0644)
        .file("weights/shard/part2.bin", "BBBB", 0640)
        .file("scripts/run.sh", "#!/bin/sh\n", 0755)
        .file("README.md", "hello");
  }

  @ParameterizedTest
  @EnumSource(value = LayerFormat.class, names = {"TAR", "TAR_GZIP", "TAR_ZSTD"})
  void extractsEveryArchiveFormatWithNestedDirectoriesModesAndMtimes(LayerFormat format) throws Exception {
    List<String> files = TarLayerExtractor.extract(blob(sample(), format), format, root, DIGEST);

    assertThat(files).containsExactly("weights/model-00001.safetensors", "weights/shard/part2.bin",
        "scripts/run.sh", "README.md");
    assertThat(Files.readString(root.resolve("weights/shard/part2.bin"))).isEqualTo("BBBB");
    assertThat(perms(root.resolve("scripts/run.sh"))).isEqualTo("rwxr-xr-x");
    assertThat(perms(root.resolve("weights/shard/part2.bin"))).isEqualTo("rw-r-----");
    assertThat(perms(root.resolve("weights/shard"))).isEqualTo("rwxr-xr-x");
    assertThat(Files.getLastModifiedTime(root.resolve("README.md"))).isEqualTo(FileTime.from(TestTar.MTIME));
    assertThat(Files.getLastModifiedTime(root.resolve("weights"))).isEqualTo(FileTime.from(TestTar.MTIME));
    assertThat(Trees.list(root)).noneMatch(p -> p.contains(".modelpack-"));
  }

  @Test
  void gzipWithConcatenatedMembersIsReadCompletely() throws Exception {
    Path b = sample().writeMultiMemberGzip(blobs.resolve("multi.tar.gz"));
    List<String> files = TarLayerExtractor.extract(b, LayerFormat.TAR_GZIP, root, DIGEST);
    assertThat(files).hasSize(4);
    assertThat(Files.readString(root.resolve("README.md"))).isEqualTo("hello");
  }

  @Test
  void zstdWithConcatenatedFramesIsReadCompletely() throws Exception {
    Path b = sample().writeMultiFrameZstd(blobs.resolve("multi.tar.zst"));
    List<String> files = TarLayerExtractor.extract(b, LayerFormat.TAR_ZSTD, root, DIGEST);
    assertThat(files).hasSize(4);
    assertThat(Files.readString(root.resolve("README.md"))).isEqualTo("hello");
  }

  @Test
  void gnuAndPaxLongNamesAreHonoured() throws Exception {
    String longName = "deep/" + "d".repeat(120) + "/" + "f".repeat(130) + ".bin";
    TestTar tar = new TestTar().file(longName, "long");
    TarLayerExtractor.extract(tar.writeTarWithLongFileMode(blobs.resolve("gnu.tar"),
        TarArchiveOutputStream.LONGFILE_GNU), LayerFormat.TAR, root, DIGEST);
    assertThat(Files.readString(root.resolve(longName))).isEqualTo("long");

    Path root2 = Files.createDirectory(tmp.resolve("model2"));
    TarLayerExtractor.extract(tar.writeTarWithLongFileMode(blobs.resolve("pax.tar"),
        TarArchiveOutputStream.LONGFILE_POSIX), LayerFormat.TAR, root2, DIGEST);
    assertThat(Files.readString(root2.resolve(longName))).isEqualTo("long");
  }

  @Test
  void leadingDotSlashAndTheArchiveRootEntryAreAccepted() throws Exception {
    TestTar tar = new TestTar().dir("./", 0700).dir("./cfg", 0755).file("./cfg/a.json", "{}");
    assertThat(extract(tar)).containsExactly("cfg/a.json");
    assertThat(perms(root)).isNotEqualTo("rwx------"); // the model root itself is not changed
  }

  @Test
  void readOnlyDirectoryEntryGetsItsModeOnlyAfterItsChildren() throws Exception {
    TestTar tar = new TestTar().dir("ro", 0555).file("ro/inner.txt", "x", 0444);
    extract(tar);
    assertThat(perms(root.resolve("ro"))).isEqualTo("r-xr-xr-x");
    assertThat(Files.readString(root.resolve("ro/inner.txt"))).isEqualTo("x");
  }

  @Test
  void preExistingDirectoriesKeepTheirModeAndTime() throws Exception {
    Path shared = Files.createDirectory(root.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwx------"));
    extract(new TestTar().dir("shared", 0555).file("shared/x", "x"));
    assertThat(perms(shared)).isEqualTo("rwx------");
  }

  @Test
  void parentTraversalEntryIsRejectedAndEarlierEntriesAreRolledBack() throws Exception {
    TestTar tar = new TestTar().file("good/ok.txt", "ok").file("../outside/evil.txt", "pwned");
    assertThatThrownBy(() -> extract(tar))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("../outside/evil.txt")
        .hasMessageContaining(DIGEST);
    assertNothingLeaked(List.of());
  }

  @Test
  void absoluteEntryIsRejected() throws Exception {
    String abs = outside.resolve("evil.txt").toString();
    for (String name : new String[] {abs, "/evil.txt", "C:/evil.txt"}) {
      TestTar tar = new TestTar().file("a.txt", "a").verbatimFile(name, "pwned");
      assertThatThrownBy(() -> extract(tar)).as(name)
          .isInstanceOf(UnsafePathException.class)
          .hasMessageContaining(name);
      assertNothingLeaked(List.of());
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
      assertNothingLeaked(List.of());
    }
  }

  @Test
  void chainedSymlinkTrickWithDotDotAfterANameIsRejected() throws Exception {
    // a/b/s -> ../../c is inside; t -> a/b/s/../../.. would look inside lexically but the
    // kernel resolves s first and ends above the root.
    TestTar tar = new TestTar().dir("c", 0755).dir("a/b", 0755)
        .symlink("a/b/s", "../../c").symlink("t", "a/b/s/../../..");
    assertThatThrownBy(() -> extract(tar)).isInstanceOf(UnsafePathException.class).hasMessageContaining("'t'");
    assertNothingLeaked(List.of());
  }

  @Test
  void symlinkInsideTheRootIsCreated() throws Exception {
    TestTar tar = new TestTar().file("weights/v1/model.bin", "m").symlink("weights/current", "v1")
        .symlink("top", "weights/v1/model.bin").symlink("weights/v1/up", "../../top");
    List<String> files = extract(tar);
    assertThat(files).containsExactly("weights/v1/model.bin");
    assertThat(Files.readSymbolicLink(root.resolve("weights/current"))).isEqualTo(Path.of("v1"));
    assertThat(Files.readString(root.resolve("top"))).isEqualTo("m");
  }

  @Test
  void entriesAreNeverWrittenThroughASymlinkFromTheSameArchive() throws Exception {
    Files.createDirectory(root.resolve("real"));
    TestTar tar = new TestTar().symlink("d", "real").file("d/x.txt", "x");
    assertThatThrownBy(() -> extract(tar)).isInstanceOf(UnsafePathException.class).hasMessageContaining("symlink");
    assertNothingLeaked(List.of("real"));
  }

  @Test
  void preExistingSymlinkInTheModelRootPointingOutsideIsNotFollowed() throws Exception {
    Files.createSymbolicLink(root.resolve("evil"), outside);
    TestTar tar = new TestTar().file("evil/sub/x.bin", "x");
    assertThatThrownBy(() -> extract(tar)).isInstanceOf(UnsafePathException.class).hasMessageContaining("evil");
    assertNothingLeaked(List.of("evil"));
  }

  @Test
  void hardlinkToAnEarlierFileOfTheSameLayerIsCreated() throws Exception {
    TestTar tar = new TestTar().file("a/orig.bin", "data", 0600).hardlink("b/copy.bin", "a/orig.bin");
    assertThat(extract(tar)).containsExactly("a/orig.bin", "b/copy.bin");
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
    assertThat(Trees.list(root)).isEmpty();
    assertThat(Trees.list(outside)).containsExactly("secret");
  }

  @Test
  void hardlinkToAFileNotExtractedByThisLayerIsRejected() throws Exception {
    Files.writeString(root.resolve("from-other-layer"), "o");
    Files.createSymbolicLink(root.resolve("sym"), Path.of("from-other-layer"));
    for (String target : new String[] {"from-other-layer", "sym", "missing"}) {
      TestTar tar = new TestTar().hardlink("hl", target);
      assertThatThrownBy(() -> extract(tar)).as(target).isInstanceOf(UnsafePathException.class);
      assertNothingLeaked(List.of("from-other-layer", "sym"));
    }
  }

  @Test
  void duplicateFileAcrossLayersIsAConflictAndTheFirstLayerWins() throws Exception {
    TarLayerExtractor.extract(blob(new TestTar().file("shared/config.json", "first"), LayerFormat.TAR),
        LayerFormat.TAR, root, OTHER);
    TestTar second = new TestTar().file("shared/new.txt", "n").dir("extra", 0755)
        .file("shared/config.json", "second");
    List<String> before = Trees.list(root);

    assertThatThrownBy(() -> extract(second))
        .isInstanceOf(ConflictingPathException.class)
        .hasMessageContaining("shared/config.json")
        .hasMessageContaining(DIGEST);

    assertThat(Files.readString(root.resolve("shared/config.json"))).isEqualTo("first");
    assertNothingLeaked(before);
  }

  @Test
  void duplicateFileWithinOneLayerIsAConflictNamingTheLayer() throws Exception {
    TestTar tar = new TestTar().file("a.txt", "1").file("a.txt", "2");
    assertThatThrownBy(() -> extract(tar))
        .isInstanceOf(ConflictingPathException.class)
        .hasMessage("path a.txt is provided twice by layer " + DIGEST);
    assertNothingLeaked(List.of());
  }

  @Test
  void devicesAndFifosAreSkipped() throws Exception {
    TestTar tar = new TestTar().special("dev/null", TarConstants.LF_CHR)
        .special("dev/sda", TarConstants.LF_BLK).special("pipe", TarConstants.LF_FIFO).file("ok", "ok");
    assertThat(extract(tar)).containsExactly("ok");
    assertThat(Trees.list(root)).containsExactly("ok");
  }

  @Test
  void truncatedArchiveFailsAndLeavesNothingBehind() throws Exception {
    // Incompressible second file, so the cut lands inside it, after first.bin was written.
    byte[] noise = new byte[70_000];
    new java.util.Random(42).nextBytes(noise);
    String second = java.util.Base64.getEncoder().encodeToString(noise);
    Path full = blob(new TestTar().file("a/first.bin", "x".repeat(5000)).file("b/second.bin", second),
        LayerFormat.TAR_GZIP);
    byte[] bytes = Files.readAllBytes(full);
    Path cut = Files.write(blobs.resolve("cut.tar.gz"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
    assertThatThrownBy(() -> TarLayerExtractor.extract(cut, LayerFormat.TAR_GZIP, root, DIGEST))
        .isInstanceOf(IOException.class);
    assertNothingLeaked(List.of());
  }

  @Test
  void rollbackKeepsDirectoriesThatOthersHaveWrittenInto() throws Exception {
    Files.createDirectory(root.resolve("pre"));
    TestTar tar = new TestTar().file("pre/mine.txt", "m").file("new/mine.txt", "m").file("../bad", "b");
    assertThatThrownBy(() -> extract(tar)).isInstanceOf(UnsafePathException.class);
    assertNothingLeaked(List.of("pre"));
  }

  @Test
  void rawFormatIsNotAcceptedByTheExtractor() {
    assertThatThrownBy(() -> TarLayerExtractor.extract(blobs.resolve("x"), LayerFormat.RAW, root, DIGEST))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
