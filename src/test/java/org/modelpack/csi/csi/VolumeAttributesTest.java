package org.modelpack.csi.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;

class VolumeAttributesTest {
  private static final String KEY = "model.csi.modelpack.org/exclude-file-patterns";

  private static DriverException fails(Runnable r) {
    try {
      r.run();
    } catch (DriverException e) {
      return e;
    }
    throw new AssertionError("did not fail");
  }

  @Test
  void patternsAreAJsonArrayOfStrings() {
    assertThat(NodeService.parsePatterns("[\"*.bin\", \"!config.json\"]", KEY))
        .containsExactly("*.bin", "!config.json");
    assertThat(NodeService.parsePatterns("  [ ] ", KEY)).isEmpty();
    assertThat(NodeService.parsePatterns("", KEY)).isEmpty();
    assertThat(NodeService.parsePatterns(null, KEY)).isEmpty();
    assertThat(NodeService.parsePatterns("null", KEY)).isEmpty();
  }

  @Test
  void badJsonAndNonStringsAreInvalidArgumentsNamingTheKey() {
    for (String bad : List.of("*.bin", "[\"*.bin\"", "{\"a\": 1}", "\"*.bin\"", "[1]",
        "[\"a\", null]", "[[\"a\"]]")) {
      DriverException e = fails(() -> NodeService.parsePatterns(bad, KEY));
      assertThat(e.kind()).as(bad).isEqualTo(ErrorKind.INVALID_ARGUMENT);
      assertThat(e).as(bad).hasMessageContaining(KEY);
    }
  }

  @Test
  void boolsFollowGoParseBool() {
    for (String t : List.of("true", "TRUE", "True", "t", "1", " true ")) {
      assertThat(NodeService.parseBool(t, "k")).as(t).isTrue();
    }
    for (String f : List.of("false", "F", "0", "")) {
      assertThat(NodeService.parseBool(f, "k")).as(f).isFalse();
    }
    assertThat(NodeService.parseBool(null, "k")).isFalse();
    DriverException e = fails(() -> NodeService.parseBool("maybe", "svc/check-disk-quota"));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining("svc/check-disk-quota").hasMessageContaining("maybe");
  }
}
