package org.modelpack.csi.pull;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The Go driver's exclusion semantics (upstream-features §3.4). */
class LayerFilterTest {

  private static boolean keeps(LayerFilter f, String path) {
    return f.compile().keeps(path, false);
  }

  @Test
  void withoutExclusionsEverythingIsKeptEvenLayersWithoutAPath() {
    assertThat(LayerFilter.NONE.enabled()).isFalse();
    assertThat(keeps(LayerFilter.NONE, "model.safetensors")).isTrue();
    assertThat(keeps(LayerFilter.NONE, null)).isTrue();
  }

  @Test
  void whenFilteringALayerWithoutAPathIsLeftOut() {
    assertThat(keeps(new LayerFilter(true, List.of()), null)).isFalse();
    assertThat(keeps(new LayerFilter(false, List.of("*.bin")), null)).isFalse();
  }

  @Test
  void excludeWeightsLeavesOutSafetensorsAndTheIndexOnly() {
    LayerFilter f = new LayerFilter(true, List.of());
    assertThat(keeps(f, "model-00001-of-00002.safetensors")).isFalse();
    assertThat(keeps(f, "sub/model.safetensors")).isFalse();
    assertThat(keeps(f, "model.safetensors.index.json")).isFalse();
    // Not weights in the Go driver's sense (its PR #13): other formats and tokenizer files.
    assertThat(keeps(f, "pytorch_model.bin")).isTrue();
    assertThat(keeps(f, "model.gguf")).isTrue();
    assertThat(keeps(f, "tiktoken.model")).isTrue();
    assertThat(keeps(f, "config.json")).isTrue();
    assertThat(keeps(f, "other.safetensors.index.json")).isTrue();
  }

  @Test
  void aMatchingPatternOverridesExcludeWeights() {
    LayerFilter f = new LayerFilter(true, List.of("!model-00001-of-00002.safetensors",
        "*.md"));
    assertThat(keeps(f, "model-00001-of-00002.safetensors")).isTrue();
    assertThat(keeps(f, "model-00002-of-00002.safetensors")).isFalse();
    assertThat(keeps(f, "README.md")).isFalse();
    assertThat(keeps(f, "config.json")).isTrue();
  }

  @Test
  void patternsAloneExcludeOnlyWhatTheyMatch() {
    LayerFilter f = new LayerFilter(false, List.of("*.safetensors", "!model-00002*"));
    assertThat(keeps(f, "model-00001.safetensors")).isFalse();
    assertThat(keeps(f, "model-00002.safetensors")).isTrue();
    assertThat(keeps(f, "model.safetensors.index.json")).isTrue();
  }

  @Test
  void aTarLayerPathMayNameADirectory() {
    LayerFilter f = new LayerFilter(false, List.of("tokenizer/"));
    assertThat(f.compile().keeps("tokenizer", true)).isFalse();
    assertThat(f.compile().keeps("tokenizer", false)).isTrue();
  }

  @Test
  void filtersAreValuesForComparison() {
    assertThat(new LayerFilter(false, List.of())).isEqualTo(LayerFilter.NONE);
    assertThat(new LayerFilter(true, List.of("a"))).isEqualTo(new LayerFilter(true, List.of("a")))
        .isNotEqualTo(new LayerFilter(true, List.of("b")));
  }
}
