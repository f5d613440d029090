package org.modelpack.csi.csi;

import static org.assertj.core.api.Assertions.assertThat;

import csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.volume.PodRef;

class VolumeAttributesTest {
  private static final String SVC = "model.csi.modelpack.org";
  private static final String KEY = SVC + "/exclude-file-patterns";
  private static final String REF = "registry.example/models/m:v1";

  private static VolumeAttributes parse(Map<String, String> context) {
    return VolumeAttributes.parse(SVC, context, false, Mode.SINGLE_NODE_WRITER);
  }

  private static void assertInvalidNaming(DriverException e, String... parts) {
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    for (String part : parts) {
      assertThat(e).hasMessageContaining(part);
    }
  }

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
    assertThat(VolumeAttributes.parsePatterns("[\"*.bin\", \"!config.json\"]", KEY))
        .containsExactly("*.bin", "!config.json");
    assertThat(VolumeAttributes.parsePatterns("  [ ] ", KEY)).isEmpty();
    assertThat(VolumeAttributes.parsePatterns("", KEY)).isEmpty();
    assertThat(VolumeAttributes.parsePatterns(null, KEY)).isEmpty();
    assertThat(VolumeAttributes.parsePatterns("null", KEY)).isEmpty();
  }

  @Test
  void badJsonAndNonStringsAreInvalidArgumentsNamingTheKey() {
    for (String bad : List.of("*.bin", "[\"*.bin\"", "{\"a\": 1}", "\"*.bin\"", "[1]",
        "[\"a\", null]", "[[\"a\"]]")) {
      DriverException e = fails(() -> VolumeAttributes.parsePatterns(bad, KEY));
      assertThat(e.kind()).as(bad).isEqualTo(ErrorKind.INVALID_ARGUMENT);
      assertThat(e).as(bad).hasMessageContaining(KEY);
    }
  }

  @Test
  void boolsFollowGoParseBool() {
    for (String t : List.of("true", "TRUE", "True", "t", "1", " true ")) {
      assertThat(VolumeAttributes.parseBool(t, "k")).as(t).isTrue();
    }
    for (String f : List.of("false", "F", "0", "")) {
      assertThat(VolumeAttributes.parseBool(f, "k")).as(f).isFalse();
    }
    assertThat(VolumeAttributes.parseBool(null, "k")).isFalse();
    DriverException e = fails(() -> VolumeAttributes.parseBool("maybe", "svc/check-disk-quota"));
    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(e).hasMessageContaining("svc/check-disk-quota").hasMessageContaining("maybe");
  }

  @Test
  void onlyAReferenceGivesAReadOnlyVolumeWithEverything() {
    VolumeAttributes a = parse(Map.of(SVC + "/reference", REF, "other/key", "x"));
    assertThat(a).isEqualTo(new VolumeAttributes(REF, false, LayerFilter.NONE, false, null));
  }

  @Test
  void kubeletsPodInfoNamesThePodForItsEvents() {
    VolumeAttributes a = parse(Map.of(SVC + "/reference", REF,
        "csi.storage.k8s.io/pod.name", "inference-0", "csi.storage.k8s.io/pod.namespace", "ml",
        "csi.storage.k8s.io/pod.uid", "u-1"));
    assertThat(a.pod()).isEqualTo(new PodRef("ml", "inference-0", "u-1"));
    assertThat(parse(Map.of(SVC + "/reference", REF, "csi.storage.k8s.io/pod.name", "p"))
        .pod()).as("no namespace, no pod to address").isNull();
  }

  @Test
  void everyKeyIsReadUnderTheServiceName() {
    VolumeAttributes a = parse(Map.of(SVC + "/reference", REF, SVC + "/writable", "yes",
        SVC + "/exclude-model-weights", "t", SVC + "/exclude-file-patterns", "[\"*.md\"]",
        SVC + "/check-disk-quota", "1"));
    assertThat(a).isEqualTo(new VolumeAttributes(REF, true,
        new LayerFilter(true, List.of("*.md")), true, null));
    assertThat(VolumeAttributes.parse("other.svc", Map.of("other.svc/reference", REF,
        SVC + "/writable", "true"), false, Mode.SINGLE_NODE_WRITER).writable()).isFalse();
  }

  @Test
  void aMissingOrBlankReferenceIsRefusedNamingItsKey() {
    for (Map<String, String> context : List.of(Map.<String, String>of(),
        Map.of(SVC + "/reference", ""), Map.of(SVC + "/reference", "  "))) {
      assertInvalidNaming(fails(() -> parse(context)), SVC + "/reference",
          "volume_context has no");
    }
  }

  @Test
  void aReferenceWithWhiteSpaceAroundItIsRefused() {
    DriverException e = fails(() -> parse(Map.of(SVC + "/reference", " " + REF)));
    assertInvalidNaming(e, SVC + "/reference", "leading or trailing white space");
  }

  @Test
  void writableNeedsAReadWritePublishAndAWriterMode() {
    Map<String, String> context = Map.of(SVC + "/reference", REF, SVC + "/writable", "true");
    assertInvalidNaming(fails(() -> VolumeAttributes.parse(SVC, context, true,
        Mode.SINGLE_NODE_WRITER)), SVC + "/writable=true", "readonly=true");
    assertInvalidNaming(fails(() -> VolumeAttributes.parse(SVC, context, false,
        Mode.SINGLE_NODE_READER_ONLY)), SVC + "/writable=true", "SINGLE_NODE_READER_ONLY");
    assertThat(VolumeAttributes.parse(SVC, context, false, Mode.MULTI_NODE_MULTI_WRITER)
        .writable()).isTrue();
    assertInvalidNaming(fails(() -> parse(Map.of(SVC + "/reference", REF,
        SVC + "/writable", "maybe"))), SVC + "/writable", "maybe");
  }

  @Test
  void badBooleansAndPatternsAreRefusedNamingTheirKey() {
    for (String key : List.of("/exclude-model-weights", "/check-disk-quota")) {
      assertInvalidNaming(fails(() -> parse(Map.of(SVC + "/reference", REF, SVC + key, "2"))),
          SVC + key);
    }
    assertInvalidNaming(fails(() -> parse(Map.of(SVC + "/reference", REF, KEY, "*.bin"))), KEY);
  }
}
