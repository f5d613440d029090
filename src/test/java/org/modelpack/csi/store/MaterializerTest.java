package org.modelpack.csi.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modelpack.csi.unpack.ConflictingPathException;
import org.modelpack.csi.unpack.SafeDirs;
import org.modelpack.csi.unpack.UnsafePathException;

/**
 * Placing a raw layer's store entry at its annotated path: no clobbering, no writing through
 * links or outside the model directory (the placing rules RawLayerPlacer had, as the store
 * applies them).
 */
class MaterializerTest {
  private static final String DIGEST = "sha256:" + "d".repeat(64);
  private static final String OTHER = "sha256:" + "e".repeat(64);

  @TempDir Path tmp;
  Path root;
  Path outside;
  Path blobs;
  final Materializer materializer = new Materializer();

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("model"));
    outside = Files.createDirectory(tmp.resolve("outside"));
    blobs = Files.createDirectory(tmp.resolve("blobs"));
  }

  private StoreEntry blob(String content, String digest) throws IOException {
    Path file = Files.writeString(Files.createTempFile(blobs, "blob", ".tmp"), content);
    return new StoreEntry(new LayerKey(digest, EntryKind.BLOB), file, content.length());
  }

  private static String perms(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  private static List<String> list(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void placesTheBlobAtANestedPathCreatingItsDirectories() throws Exception {
    StoreEntry entry = blob("weights!", DIGEST);
    materializer.place(entry, root, "bin/tools/run.sh", false);

    Path placed = root.resolve("bin/tools/run.sh");
    assertThat(Files.readString(placed)).isEqualTo("weights!");
    assertThat(Files.isSameFile(placed, entry.path())).isTrue();
    assertThat(perms(root.resolve("bin"))).isEqualTo("rwxr-xr-x");
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void secondLayerForTheSamePathIsAConflictAndTheFirstFileIsUntouched(boolean privateCopy)
      throws Exception {
    materializer.place(blob("first", OTHER), root, "config.json", privateCopy);

    assertThatThrownBy(() -> materializer.place(blob("second", DIGEST), root, "config.json",
        privateCopy))
        .isInstanceOf(ConflictingPathException.class)
        .hasMessageContaining("path config.json is provided by two layers")
        .hasMessageContaining(DIGEST);
    assertThat(Files.readString(root.resolve("config.json"))).isEqualTo("first");
  }

  @Test
  void conflictCanNameBothLayersWhenTheCallerKnowsTheFirst() throws Exception {
    materializer.place(blob("first", OTHER), root, "x", false);
    try {
      materializer.place(blob("second", DIGEST), root, "x", false);
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
    StoreEntry entry = blob("w", DIGEST);
    assertThatThrownBy(() -> materializer.place(entry, root, "model.bin", false))
        .isInstanceOf(ConflictingPathException.class);
    assertThat(list(outside)).isEmpty();
  }

  @Test
  void unsafeAnnotatedPathsAreRejectedAndNothingIsWrittenOutside() throws Exception {
    for (String bad : new String[] {"../outside/x", "/tmp/x", "a/../../outside/y", "", "a\\b"}) {
      StoreEntry entry = blob("x", DIGEST);
      assertThatThrownBy(() -> materializer.place(entry, root, bad, false))
          .as(bad)
          .isInstanceOf(UnsafePathException.class)
          .hasMessageContaining(DIGEST);
      assertThat(Files.exists(entry.path())).isTrue();
    }
    assertThat(list(outside)).isEmpty();
    assertThat(list(root)).isEmpty();
  }

  @Test
  void aPreExistingSymlinkedDirectoryInTheModelRootIsNotWrittenThrough() throws Exception {
    Files.createSymbolicLink(root.resolve("weights"), outside);
    StoreEntry entry = blob("w", DIGEST);
    assertThatThrownBy(() -> materializer.place(entry, root, "weights/model.bin", false))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("symlink");
    assertThat(list(outside)).isEmpty();
  }

  /**
   * The placements of one pull share their directory checks (SafeDirs): a symlink a tar layer
   * put in the model directory is still refused as a directory for a later raw layer, and one
   * directory made for one layer serves the next.
   */
  @Test
  void placementsSharingTheirDirectoryChecksStillRefuseASymlinkAnotherLayerPlaced()
      throws Exception {
    SafeDirs shared = new SafeDirs(root);
    Path tree = Files.createDirectory(tmp.resolve("tree"));
    Files.createSymbolicLink(tree.resolve("weights"), outside);
    Files.createDirectory(tree.resolve("docs"));
    Files.writeString(tree.resolve("docs/README"), "r");
    materializer.place(new StoreEntry(new LayerKey(OTHER, EntryKind.TREE), tree, 1), shared,
        null, false);

    materializer.place(blob("a", DIGEST), shared, "docs/a.txt", false);
    assertThatThrownBy(() -> materializer.place(blob("w", DIGEST), shared, "weights/model.bin",
        false))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("symlink");
    assertThat(list(outside)).isEmpty();
    assertThat(list(root)).containsExactly("docs", "docs/README", "docs/a.txt", "weights");
  }
}
