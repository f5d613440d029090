package org.modelpack.csi.materialize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.modelpack.FileMetadata;

class RawLayerPlacerTest {
  private static final String DIGEST = "sha256:" + "d".repeat(64);
  private static final String OTHER = "sha256:" + "e".repeat(64);
  private static final Instant MTIME = Instant.parse("2026-11-23T22:17:46.253690180Z");

  @TempDir Path tmp;
  Path root;
  Path outside;
  Path blobs;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("model"));
    outside = Files.createDirectory(tmp.resolve("outside"));
    blobs = Files.createDirectory(tmp.resolve("blobs"));
  }

  private Path blob(String content) throws IOException {
    return Files.writeString(Files.createTempFile(blobs, "blob", ".tmp"), content);
  }

  private static String perms(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void placesTheBlobAtANestedPathAndAppliesModeAndMtime() throws Exception {
    Path blob = blob("weights!");
    FileMetadata meta = new FileMetadata("run.sh", 0755, 1000, 1000, 8, MTIME, 0);
    Path placed = RawLayerPlacer.place(blob, root, "bin/tools/run.sh", meta, DIGEST);

    assertThat(placed).isEqualTo(root.resolve("bin/tools/run.sh"));
    assertThat(Files.readString(placed)).isEqualTo("weights!");
    assertThat(perms(placed)).isEqualTo("rwxr-xr-x");
    assertThat(Files.getLastModifiedTime(placed)).isEqualTo(FileTime.from(MTIME));
    assertThat(Files.exists(blob, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(perms(root.resolve("bin"))).isEqualTo("rwxr-xr-x");
  }

  @Test
  void modeDefaultsTo0644WithoutMetadataOrWithModeZero() throws Exception {
    Path a = RawLayerPlacer.place(blob("a"), root, "a.txt", null, DIGEST);
    Path b = RawLayerPlacer.place(blob("b"), root, "b.txt",
        new FileMetadata("b.txt", 0, 0, 0, 1, null, 0), DIGEST);
    assertThat(perms(a)).isEqualTo("rw-r--r--");
    assertThat(perms(b)).isEqualTo("rw-r--r--");
  }

  @Test
  void secondLayerForTheSamePathIsAConflictAndTheFirstFileIsUntouched() throws Exception {
    RawLayerPlacer.place(blob("first"), root, "config.json",
        new FileMetadata("config.json", 0600, 0, 0, 5, MTIME, 0), OTHER);
    Path second = blob("second");

    assertThatThrownBy(() -> RawLayerPlacer.place(second, root, "config.json", null, DIGEST))
        .isInstanceOf(ConflictingPathException.class)
        .hasMessageContaining("path config.json is provided by two layers")
        .hasMessageContaining(DIGEST);

    Path target = root.resolve("config.json");
    assertThat(Files.readString(target)).isEqualTo("first");
    assertThat(perms(target)).isEqualTo("rw-------");
    assertThat(Files.getLastModifiedTime(target)).isEqualTo(FileTime.from(MTIME));
    assertThat(Files.readString(second)).isEqualTo("second"); // left for the caller
  }

  @Test
  void conflictCanNameBothLayersWhenTheCallerKnowsTheFirst() throws Exception {
    RawLayerPlacer.place(blob("first"), root, "x", null, OTHER);
    try {
      RawLayerPlacer.place(blob("second"), root, "x", null, DIGEST);
    } catch (ConflictingPathException e) {
      assertThat(e.withOtherLayer(OTHER).getMessage())
          .isEqualTo("path x is provided by two layers (" + OTHER + " and " + DIGEST + ")");
      return;
    }
    throw new AssertionError("expected a conflict");
  }

  @Test
  void aDanglingSymlinkAtTheTargetIsAConflictAndIsNotFollowed() throws Exception {
    Files.createSymbolicLink(root.resolve("model.bin"), outside.resolve("stolen"));
    assertThatThrownBy(() -> RawLayerPlacer.place(blob("w"), root, "model.bin", null, DIGEST))
        .isInstanceOf(ConflictingPathException.class);
    assertThat(Trees.list(outside)).isEmpty();
  }

  @Test
  void unsafeAnnotatedPathsAreRejectedAndNothingIsWrittenOutside() throws Exception {
    for (String bad : new String[] {"../outside/x", "/tmp/x", "a/../../outside/y", "", "a\\b"}) {
      Path blob = blob("x");
      assertThatThrownBy(() -> RawLayerPlacer.place(blob, root, bad, null, DIGEST))
          .as(bad)
          .isInstanceOf(UnsafePathException.class)
          .hasMessageContaining(DIGEST);
      assertThat(Files.exists(blob)).isTrue();
    }
    assertThat(Trees.list(outside)).isEmpty();
    assertThat(Trees.list(root)).isEmpty();
  }

  @Test
  void aPreExistingSymlinkedDirectoryInTheModelRootIsNotWrittenThrough() throws Exception {
    Files.createSymbolicLink(root.resolve("weights"), outside);
    assertThatThrownBy(() -> RawLayerPlacer.place(blob("w"), root, "weights/model.bin", null, DIGEST))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("symlink");
    assertThat(Trees.list(outside)).isEmpty();
  }
}
