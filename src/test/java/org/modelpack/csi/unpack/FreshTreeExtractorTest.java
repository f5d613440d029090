package org.modelpack.csi.unpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.modelpack.LayerFormat;

/** The store's extraction into a fresh directory: the same tree, with nothing kept per file. */
class FreshTreeExtractorTest {
  private static final String DIGEST = "sha256:" + "1".repeat(64);

  @TempDir Path tmp;
  int blobCounter;

  private long extractFresh(TestTar tar, Path fresh) throws IOException {
    Path blob = tar.writeTo(tmp.resolve("layer" + (blobCounter++)), LayerFormat.TAR);
    return FreshTreeExtractor.extract(blob, LayerFormat.TAR, fresh, DIGEST,
        ExpansionBudget.unlimited(DIGEST));
  }

  @Test
  void theSameTreeAppearsAsInAModelDirectoryAndItsFilesAreCounted() throws Exception {
    TestTar tar = TarLayerExtractorTest.sample()
        .hardlink("weights/copy.bin", "weights/shard/part2.bin").symlink("latest", "weights");
    Path fresh = Files.createDirectory(tmp.resolve("fresh"));
    Path model = Files.createDirectory(tmp.resolve("model"));

    long count = extractFresh(tar, fresh);

    List<String> tracked = TarLayerExtractor.extract(tar.writeTo(tmp.resolve("tracked"),
        LayerFormat.TAR), LayerFormat.TAR, model, DIGEST);
    assertThat(count).isEqualTo(tracked.size()).isEqualTo(5);
    assertThat(Trees.list(fresh)).isEqualTo(Trees.list(model));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        fresh.resolve("weights/shard/part2.bin")))).isEqualTo("rw-r-----");
    assertThat(Files.getLastModifiedTime(fresh.resolve("weights")))
        .isEqualTo(FileTime.from(TestTar.MTIME));
    assertThat(Files.isSameFile(fresh.resolve("weights/copy.bin"),
        fresh.resolve("weights/shard/part2.bin"))).isTrue();
  }

  @Test
  void aHardLinkMustStillNameARegularFileOfTheLayer() throws Exception {
    Path fresh = Files.createDirectory(tmp.resolve("fresh"));
    Files.createDirectory(tmp.resolve("outside"));
    Files.writeString(tmp.resolve("outside/secret"), "s");
    for (TestTar tar : List.of(
        new TestTar().file("a/x", "x").hardlink("hl", "a"),
        new TestTar().file("a/x", "x").symlink("s", "a/x").hardlink("hl", "s"),
        new TestTar().file("a/x", "x").hardlink("hl", "a/missing"),
        new TestTar().file("x", "x").hardlink("hl", "../outside/secret"))) {
      assertThatThrownBy(() -> extractFresh(tar, fresh)).isInstanceOf(UnsafePathException.class)
          .hasMessageContaining("'hl'");
      assertThat(fresh.resolve("hl")).doesNotExist();
      FileTrees.delete(fresh);
      Files.createDirectory(fresh);
    }
  }
}
