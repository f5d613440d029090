package org.modelpack.csi.unpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model root a pull fills: SafePath's rules, each directory checked once. */
class SafeDirsTest {
  private static final String DIGEST = "sha256:" + "a".repeat(64);

  @TempDir Path tmp;
  Path root;
  Path outside;
  SafeDirs dirs;

  @BeforeEach
  void setUp() throws Exception {
    root = Files.createDirectory(tmp.resolve("model"));
    outside = Files.createDirectory(tmp.resolve("outside"));
    dirs = new SafeDirs(root);
  }

  @Test
  void createsEachMissingDirectoryWith0755() throws Exception {
    dirs.create(dirs.resolve("a/b/c", DIGEST), DIGEST);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("a/b/c"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("a"))))
        .isEqualTo("rwxr-xr-x");
  }

  @Test
  void refusesASymlinkComponentEveryTimeAndWritesNothingThrough() throws Exception {
    Files.createSymbolicLink(root.resolve("evil"), outside);
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> dirs.create(dirs.resolve("evil/sub", DIGEST), DIGEST))
          .isInstanceOf(UnsafePathException.class).hasMessageContaining("symlink");
    }
    assertThat(outside).isEmptyDirectory();
  }

  @Test
  void refusesPathsThatLeaveTheRoot() {
    assertThatThrownBy(() -> dirs.resolve("../outside/x", DIGEST))
        .isInstanceOf(UnsafePathException.class);
    assertThatThrownBy(() -> dirs.create(outside.resolve("x"), DIGEST))
        .isInstanceOf(UnsafePathException.class);
    assertThat(outside).isEmptyDirectory();
  }

  /**
   * The point of it, and the promise its users make (only the filling changes the tree): a
   * directory checked once, and each of its parents, is not looked at again.
   */
  @Test
  void aDirectoryCheckedOnceAndItsParentsAreNotLookedAtAgain() throws Exception {
    dirs.create(root.resolve("a/b"), DIGEST);
    Files.delete(root.resolve("a/b"));
    Files.delete(root.resolve("a"));
    dirs.create(root.resolve("a/b"), DIGEST);
    dirs.create(root.resolve("a"), DIGEST);
    assertThat(root).isEmptyDirectory();
    // A directory it never saw is checked (and made), parents included.
    dirs.create(root.resolve("a/c"), DIGEST);
    assertThat(root.resolve("a/c")).isDirectory();
  }

  @Test
  void theRootIsTrustedAndNeverCreated() throws Exception {
    dirs.create(root, DIGEST);
    assertThat(dirs.root()).isEqualTo(root.toAbsolutePath().normalize());
  }
}
