package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ExclusionPatternsTest {

  private static Optional<Boolean> verdict(List<String> patterns, String path) {
    return ExclusionPatterns.compile(patterns).verdict(path, false);
  }

  private static boolean excluded(List<String> patterns, String path) {
    return verdict(patterns, path).orElse(false);
  }

  // ------------------------------------------------------------ Go-compatible (basename) cases

  @Test
  void aPatternWithoutSlashMatchesTheNameAtAnyDepth() {
    List<String> p = List.of("*.bin");
    assertThat(excluded(p, "pytorch_model.bin")).isTrue();
    assertThat(excluded(p, "sub/dir/pytorch_model.bin")).isTrue();
    assertThat(excluded(p, "model.safetensors")).isFalse();
    assertThat(excluded(p, "bin")).isFalse();
  }

  @Test
  void theLastMatchingPatternWinsAndBangReincludes() {
    List<String> p = List.of("*.json", "!config.json");
    assertThat(verdict(p, "tokenizer.json")).contains(true);
    assertThat(verdict(p, "config.json")).contains(false);
    assertThat(verdict(p, "README.md")).isEmpty();
    // Order matters: a later exclude overrides an earlier re-include.
    assertThat(verdict(List.of("!config.json", "*.json"), "config.json")).contains(true);
  }

  @Test
  void questionMarkAndCharacterClassesMatchOneCharacter() {
    assertThat(excluded(List.of("model-0000?.bin"), "model-00003.bin")).isTrue();
    assertThat(excluded(List.of("model-0000?.bin"), "model-00010.bin")).isFalse();
    assertThat(excluded(List.of("shard[0-2].bin"), "shard1.bin")).isTrue();
    assertThat(excluded(List.of("shard[0-2].bin"), "shard3.bin")).isFalse();
    assertThat(excluded(List.of("shard[!0-2].bin"), "shard3.bin")).isTrue();
    assertThat(excluded(List.of("shard[^0-2].bin"), "shard1.bin")).isFalse();
    assertThat(excluded(List.of("[abc"), "[abc")).isTrue(); // unclosed: a literal [
  }

  @Test
  void starDoesNotCrossDirectories() {
    assertThat(excluded(List.of("docs/*.md"), "docs/a.md")).isTrue();
    assertThat(excluded(List.of("docs/*.md"), "docs/sub/a.md")).isFalse();
  }

  @Test
  void regexMetacharactersAreLiterals() {
    assertThat(excluded(List.of("a+b(1).txt"), "a+b(1).txt")).isTrue();
    assertThat(excluded(List.of("a.txt"), "abtxt")).isFalse();
    assertThat(excluded(List.of("[.]txt"), ".txt")).isTrue();
    assertThat(excluded(List.of("[\\d]"), "d")).isTrue();
    assertThat(excluded(List.of("[\\d]"), "1")).isFalse();
  }

  // ------------------------------------------------------------ gitignore on full paths

  @Test
  void aLeadingSlashAnchorsAtTheModelRoot() {
    List<String> p = List.of("/README.md");
    assertThat(excluded(p, "README.md")).isTrue();
    assertThat(excluded(p, "docs/README.md")).isFalse();
  }

  @Test
  void aSlashInTheMiddleAnchorsToo() {
    List<String> p = List.of("docs/README.md");
    assertThat(excluded(p, "docs/README.md")).isTrue();
    assertThat(excluded(p, "x/docs/README.md")).isFalse();
  }

  @Test
  void aTrailingSlashMatchesDirectoriesAndEverythingInThem() {
    List<String> p = List.of("onnx/");
    assertThat(excluded(p, "onnx/model.onnx")).isTrue();
    assertThat(excluded(p, "a/onnx/b/model.onnx")).isTrue();
    assertThat(excluded(p, "onnx")).as("a file named onnx").isFalse();
    assertThat(ExclusionPatterns.compile(p).verdict("onnx", true)).contains(true);
  }

  @Test
  void aNameWithoutSlashMatchesADirectoryAtAnyDepth() {
    assertThat(excluded(List.of("original"), "original/consolidated.00.pth")).isTrue();
    assertThat(excluded(List.of("original"), "a/original/x")).isTrue();
  }

  @Test
  void doubleStarForms() {
    assertThat(excluded(List.of("**/foo"), "foo")).isTrue();
    assertThat(excluded(List.of("**/foo"), "a/b/foo")).isTrue();
    assertThat(excluded(List.of("**/foo/bar"), "x/foo/bar")).isTrue();
    assertThat(excluded(List.of("abc/**"), "abc/x")).isTrue();
    assertThat(excluded(List.of("abc/**"), "abc/x/y")).isTrue();
    assertThat(excluded(List.of("abc/**"), "abc")).isFalse();
    assertThat(excluded(List.of("abc/**"), "x/abc/y")).isFalse();
    assertThat(excluded(List.of("a/**/b"), "a/b")).isTrue();
    assertThat(excluded(List.of("a/**/b"), "a/x/b")).isTrue();
    assertThat(excluded(List.of("a/**/b"), "a/x/y/b")).isTrue();
    assertThat(excluded(List.of("a/**/b"), "a/xb")).isFalse();
    assertThat(excluded(List.of("**"), "any/thing")).isTrue();
    assertThat(excluded(List.of("a**b"), "axxb")).isTrue(); // not a /**/ form: like *
    assertThat(excluded(List.of("a**b"), "ax/xb")).isFalse();
  }

  @Test
  void aReincludeBelowAnExcludedDirectoryWorks() {
    List<String> p = List.of("docs/", "!docs/README.md");
    assertThat(verdict(p, "docs/guide.md")).contains(true);
    assertThat(verdict(p, "docs/README.md")).contains(false);
  }

  @Test
  void commentsBlanksEscapesAndTrailingSpaces() {
    assertThat(ExclusionPatterns.compile(List.of("", "   ", "# a comment")).isEmpty()).isTrue();
    assertThat(excluded(List.of("\\#notes"), "#notes")).isTrue();
    assertThat(excluded(List.of("\\!important"), "!important")).isTrue();
    assertThat(excluded(List.of("*.bin   "), "a.bin")).isTrue();
    assertThat(excluded(List.of("name\\ "), "name ")).isTrue();
    assertThat(excluded(List.of("name\\ "), "name")).isFalse();
  }

  @Test
  void pathsAreNormalised() {
    assertThat(excluded(List.of("/a/b.bin"), "./a//b.bin")).isTrue();
    assertThat(excluded(List.of("/a/b.bin"), "/a/b.bin")).isTrue();
  }

  @Test
  void aTrailingBackslashIsRefused() {
    assertThatThrownBy(() -> ExclusionPatterns.compile(List.of("abc\\")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("abc\\");
  }
}
