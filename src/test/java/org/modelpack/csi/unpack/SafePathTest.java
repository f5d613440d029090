package org.modelpack.csi.unpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafePathTest {
  private static final String DIGEST = "sha256:" + "c".repeat(64);

  @TempDir Path tmp;
  Path root;
  Path outside;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("model"));
    outside = Files.createDirectory(tmp.resolve("outside"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "a/b/c.json", "a..b", "..a", "a..", ".hidden", "...", "sub/.config/x", "x y/ü.txt"})
  void harmlessRelativePathsResolveUnderTheRoot(String rel) throws Exception {
    Path p = SafePath.resolve(root, rel, DIGEST);
    assertThat(p.startsWith(root.toAbsolutePath().normalize())).isTrue();
    assertThat(root.relativize(p).toString()).isEqualTo(rel);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "/etc/passwd", "/", "a\\b", "..\\x", "C:foo", "c:/windows", "a\0b", "a//b", "a/", "./a",
      "a/./b", ".", "..", "../a", "a/../b", "a/..", "a/b/../../../x"
  })
  void unsafePathsAreRejectedWithPathAndDigestInTheMessage(String rel) {
    assertThatThrownBy(() -> SafePath.resolve(root, rel, DIGEST))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining(DIGEST)
        .hasMessageContaining("'" + UnsafePathException.printable(rel) + "'")
        .satisfies(e -> assertThat(((UnsafePathException) e).path()).isEqualTo(rel));
  }

  @Test
  void nullPathIsRejected() {
    assertThatThrownBy(() -> SafePath.resolve(root, null)).isInstanceOf(UnsafePathException.class);
  }

  @Test
  void nulIsShownVisiblyInTheMessage() {
    assertThatThrownBy(() -> SafePath.resolve(root, "a\0b", DIGEST)).hasMessageContaining("a\\x00b");
  }

  @Test
  void aSegmentOfExactly255BytesAndAPathOfExactly4096BytesAreAccepted() throws Exception {
    String longest = "é".repeat(127) + "x"; // 255 bytes in UTF-8, 128 characters
    assertThat(SafePath.resolve(root, longest, DIGEST).getFileName().toString())
        .isEqualTo(longest);
    String deep = ("d".repeat(254) + "/").repeat(16) + "f".repeat(4096 - 16 * 255);
    assertThat(deep.length()).isEqualTo(4096);
    SafePath.check(deep, DIGEST);
  }

  @Test
  void anAcceptablePathThatWouldBeTooLongUnderItsRootIsRefusedWhenResolved() throws Exception {
    String deep = ("d".repeat(254) + "/").repeat(16) + "f".repeat(10); // 4090 bytes
    SafePath.check(deep, DIGEST);
    assertThatThrownBy(() -> SafePath.resolve(root, deep, DIGEST))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("bytes long where it is placed, more than the 4095 Linux allows");
  }

  @Test
  void aSegmentOver255BytesIsRefusedEvenWhenItHasFewerCharacters() {
    String name = "é".repeat(128); // 128 characters, 256 bytes
    assertThatThrownBy(() -> SafePath.resolve(root, "dir/" + name, DIGEST))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("segment of 256 bytes")
        .hasMessageContaining(DIGEST);
  }

  @Test
  void aPathOver4096BytesIsRefusedWithABoundedMessage() {
    String path = ("a".repeat(99) + "/").repeat(50); // 5000 characters, short segments
    assertThatThrownBy(() -> SafePath.resolve(root, path.substring(0, 4999), DIGEST))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("4999 bytes long")
        .hasMessageContaining("more characters)")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(500));
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\nb", "a\rb", "tab\there", "esc\u001b[31m", "del\u007f", "c1\u0085x"})
  void controlCharactersAreRefusedAndShownEscaped(String rel) {
    assertThatThrownBy(() -> SafePath.resolve(root, rel, DIGEST))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("control character")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(rel.substring(rel.length() - 2)
            .substring(0, 1).equals("x") ? "" : rel));
  }

  @Test
  void createDirectoriesCreatesEachMissingSegmentWith0755AndReportsThem() throws Exception {
    Files.createDirectory(root.resolve("a"));
    var created = SafePath.createDirectories(root, root.resolve("a/b/c"));
    assertThat(created).containsExactly(root.resolve("a/b"), root.resolve("a/b/c"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("a/b/c"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(SafePath.createDirectories(root, root.resolve("a/b/c"))).isEmpty();
    assertThat(SafePath.createDirectories(root, root)).isEmpty();
  }

  @Test
  void createDirectoriesRefusesASymlinkComponentPointingOutsideAndWritesNothingThere() throws Exception {
    Files.createSymbolicLink(root.resolve("evil"), outside);
    assertThatThrownBy(() -> SafePath.createDirectories(root, root.resolve("evil/sub/dir"), DIGEST))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("evil")
        .hasMessageContaining("symlink")
        .hasMessageContaining(DIGEST);
    assertThat(Trees.list(outside)).isEmpty();
  }

  @Test
  void createDirectoriesRefusesEvenASymlinkThatStaysInside() throws Exception {
    Files.createDirectory(root.resolve("real"));
    Files.createSymbolicLink(root.resolve("alias"), Path.of("real"));
    assertThatThrownBy(() -> SafePath.createDirectories(root, root.resolve("alias/x")))
        .isInstanceOf(UnsafePathException.class);
    assertThat(Trees.list(root.resolve("real"))).isEmpty();
  }

  @Test
  void createDirectoriesRefusesAFileComponent() throws Exception {
    Files.writeString(root.resolve("file"), "x");
    assertThatThrownBy(() -> SafePath.createDirectories(root, root.resolve("file/sub")))
        .isInstanceOf(UnsafePathException.class)
        .hasMessageContaining("not a directory");
  }

  @Test
  void createDirectoriesRefusesATargetOutsideTheRoot() {
    assertThatThrownBy(() -> SafePath.createDirectories(root, outside.resolve("x")))
        .isInstanceOf(UnsafePathException.class);
    assertThatThrownBy(() -> SafePath.createDirectories(root, root.resolve("../outside/y")))
        .isInstanceOf(UnsafePathException.class);
    assertThat(Files.exists(outside.resolve("x"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Trees.list(outside)).isEmpty();
  }

  @Test
  void resolveFollowedByCreateDirectoriesNeverWritesThroughAPreExistingSymlink() throws Exception {
    Files.createSymbolicLink(root.resolve("weights"), outside);
    Path target = SafePath.resolve(root, "weights/model.bin", DIGEST); // textually fine
    assertThatThrownBy(() -> SafePath.createDirectories(root, target.getParent(), DIGEST))
        .isInstanceOf(UnsafePathException.class);
    assertThat(Trees.list(outside)).isEmpty();
  }
}
