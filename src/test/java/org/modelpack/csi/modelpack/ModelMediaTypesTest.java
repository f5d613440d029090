package org.modelpack.csi.modelpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.modelpack.ModelMediaTypes.Family;
import org.modelpack.csi.modelpack.ModelMediaTypes.Kind;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;

class ModelMediaTypesTest {
  private static final String DIGEST = "sha256:" + "a".repeat(64);

  private static Descriptor layer(String mediaType) {
    return new Descriptor(mediaType, DIGEST, 1, Map.of());
  }

  private static Manifest manifest(String artifactType, String configType) {
    return new Manifest(2, Manifest.OCI_MANIFEST, artifactType,
        new Descriptor(configType, DIGEST, 2, Map.of()), List.of(), List.of(), Map.of());
  }

  /** Every layer media type of one family (kinds × formats, excluding the draft LAYER kind). */
  private static List<String> allLayerMediaTypes(Family family) {
    return Arrays.stream(Kind.values())
        .filter(k -> k != Kind.LAYER)
        .flatMap(k -> Arrays.stream(LayerFormat.values())
            .map(f -> ModelMediaTypes.layerMediaType(family, k, f)))
        .toList();
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void everyKindAndSuffixOfBothFamiliesIsAModelLayerWithTheSuffixFormat(Family family) {
    List<String> all = allLayerMediaTypes(family);
    assertThat(all).hasSize(20);
    for (Kind kind : Kind.values()) {
      if (kind == Kind.LAYER) {
        continue;
      }
      for (LayerFormat f : LayerFormat.values()) {
        String mt = ModelMediaTypes.layerMediaType(family, kind, f);
        assertThat(mt).startsWith(family.prefix());
        assertThat(ModelMediaTypes.parseLayerType(mt)).as(mt).isPresent();
        assertThat(ModelMediaTypes.formatOf(layer(mt))).as(mt).isEqualTo(f);
        assertThat(ModelMediaTypes.kindOf(layer(mt))).as(mt).contains(kind);
      }
    }
  }

  @Test
  void exactStringsFromTheSpecAreRecognised() {
    assertThat(ModelMediaTypes.formatOf(layer("application/vnd.cncf.model.weight.v1.raw")))
        .isEqualTo(LayerFormat.RAW);
    assertThat(ModelMediaTypes.formatOf(layer("application/vnd.cnai.model.weight.config.v1.tar+zstd")))
        .isEqualTo(LayerFormat.TAR_ZSTD);
    assertThat(ModelMediaTypes.formatOf(layer("application/vnd.cncf.model.doc.v1.tar+gzip")))
        .isEqualTo(LayerFormat.TAR_GZIP);
    assertThat(ModelMediaTypes.formatOf(layer("application/vnd.cnai.model.dataset.v1.tar")))
        .isEqualTo(LayerFormat.TAR);
    assertThat(ModelMediaTypes.kindOf(layer("application/vnd.cnai.model.weight.config.v1.tar")))
        .contains(Kind.WEIGHT_CONFIG);
  }

  @Test
  void preReleaseCnaiLayerKindIsRecognisedButNotInCncfFamily() {
    assertThat(ModelMediaTypes.formatOf(layer("application/vnd.cnai.model.layer.v1.tar+gzip")))
        .isEqualTo(LayerFormat.TAR_GZIP);
    assertThat(ModelMediaTypes.parseLayerType("application/vnd.cncf.model.layer.v1.tar"))
        .isEmpty();
  }

  @Test
  void mediaTypeComparisonIgnoresCaseAndParameters() {
    assertThat(ModelMediaTypes.formatOf(layer("Application/VND.CNCF.model.Weight.v1.TAR; x=y")))
        .isEqualTo(LayerFormat.TAR);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.cncf.model.weight.v1.tar+xz",
      "application/vnd.cncf.model.weights.v1.raw",
      "application/vnd.cncf.model.weight.v2.raw",
      "application/vnd.cncf.model.weight.raw",
      "application/vnd.cncf.model.config.v1+json",
      "application/octet-stream",
      "text/plain.raw"
  })
  void unknownLayerTypesAreRejectedWithDigestAndMediaTypeInTheMessage(String mt) {
    assertThat(ModelMediaTypes.parseLayerType(mt)).isEmpty();
    assertThatThrownBy(() -> ModelMediaTypes.formatOf(layer(mt)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining(DIGEST)
        .hasMessageContaining(mt);
  }

  @Test
  void missingMediaTypeIsRejected() {
    assertThatThrownBy(() -> ModelMediaTypes.formatOf(layer(null)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining(DIGEST);
  }

  @Test
  void onlyTheTarFormatsAreArchives() {
    assertThat(LayerFormat.RAW.isArchive()).isFalse();
    assertThat(LayerFormat.TAR_ZSTD.isArchive()).isTrue();
  }

  @Test
  void manifestIsAModelWhenArtifactTypeOrConfigTypeIsAModelTypeOfEitherFamily() {
    assertThat(ModelMediaTypes.isModelManifest(
        manifest(ModelMediaTypes.MANIFEST_V1, "application/vnd.oci.empty.v1+json"))).isTrue();
    assertThat(ModelMediaTypes.isModelManifest(
        manifest(ModelMediaTypes.LEGACY_MANIFEST_V1, "application/vnd.oci.empty.v1+json"))).isTrue();
    assertThat(ModelMediaTypes.isModelManifest(manifest(null, ModelMediaTypes.CONFIG_V1))).isTrue();
    assertThat(ModelMediaTypes.isModelManifest(manifest(null, ModelMediaTypes.LEGACY_CONFIG_V1))).isTrue();
    assertThat(ModelMediaTypes.isModelManifest(
        manifest(null, "application/vnd.oci.image.config.v1+json"))).isFalse();
    assertThat(ModelMediaTypes.isModelManifest(
        manifest("application/vnd.example+json", "application/vnd.oci.empty.v1+json"))).isFalse();
    assertThat(ModelMediaTypes.isModelManifest(null)).isFalse();
  }
}
