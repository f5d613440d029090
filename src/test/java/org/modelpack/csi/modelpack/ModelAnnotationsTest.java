package org.modelpack.csi.modelpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.oci.Descriptor;

class ModelAnnotationsTest {
  private static final String DIGEST = "sha256:" + "b".repeat(64);
  private static final String RAW = "application/vnd.cncf.model.weight.v1.raw";
  private static final String TAR = "application/vnd.cncf.model.weight.v1.tar";

  private static Descriptor layer(String mt, Map<String, String> ann) {
    return new Descriptor(mt, DIGEST, 8, ann);
  }

  @Test
  void filePathPrefersCncfOverCnaiOverTitle() {
    assertThat(ModelAnnotations.filePath(layer(RAW, Map.of(
        "org.cncf.model.filepath", "a/new.json",
        "org.cnai.model.filepath", "a/old.json",
        "org.opencontainers.image.title", "title.json")))).contains("a/new.json");
    assertThat(ModelAnnotations.filePath(layer(RAW, Map.of(
        "org.cnai.model.filepath", "a/old.json",
        "org.opencontainers.image.title", "title.json")))).contains("a/old.json");
    assertThat(ModelAnnotations.filePath(layer(RAW, Map.of(
        "org.opencontainers.image.title", "title.json")))).contains("title.json");
  }

  @Test
  void titleIsOnlyAFallbackForRawLayers() {
    assertThat(ModelAnnotations.filePath(layer(TAR, Map.of(
        "org.opencontainers.image.title", "title.tar")))).isEmpty();
  }

  @Test
  void blankFilePathCountsAsAbsent() {
    assertThat(ModelAnnotations.filePath(layer(RAW, Map.of(
        "org.cncf.model.filepath", "  ", "org.cnai.model.filepath", "x")))).contains("x");
    assertThat(ModelAnnotations.filePath(layer(RAW, Map.of()))).isEmpty();
  }

  @Test
  void fileMetadataFallsBackFromCncfToCnaiToDraftKey() {
    String cncf = "{\"name\":\"n\",\"mode\":493}";
    String cnai = "{\"name\":\"n\",\"mode\":420}";
    String draft = "{\"name\":\"n\",\"mode\":384}";
    assertThat(ModelAnnotations.fileMetadata(layer(RAW, Map.of(
        "org.cncf.model.file.metadata+json", cncf,
        "org.cnai.model.file.metadata+json", cnai,
        "org.cnai.model.file.metadata", draft))).orElseThrow().mode()).isEqualTo(0755);
    assertThat(ModelAnnotations.fileMetadata(layer(RAW, Map.of(
        "org.cnai.model.file.metadata+json", cnai,
        "org.cnai.model.file.metadata", draft))).orElseThrow().mode()).isEqualTo(0644);
    assertThat(ModelAnnotations.fileMetadata(layer(RAW, Map.of(
        "org.cnai.model.file.metadata", draft))).orElseThrow().mode()).isEqualTo(0600);
    assertThat(ModelAnnotations.fileMetadata(layer(RAW, Map.of()))).isEmpty();
  }

  @Test
  void modctlStyleAnnotationIsParsed() {
    FileMetadata m = ModelAnnotations.fileMetadata(layer(RAW, Map.of(
        "org.cncf.model.file.metadata+json",
        "{\"name\":\"x.json\",\"mode\":420,\"uid\":1000,\"gid\":1000,\"size\":8,"
            + "\"mtime\":\"2026-11-23T22:17:46.25369018Z\",\"typeflag\":0}",
        "org.cncf.model.filepath", "sub/x.json"))).orElseThrow();
    assertThat(m).isEqualTo(new FileMetadata("x.json", 0644, 1000, 1000, 8,
        Instant.parse("2026-11-23T22:17:46.253690180Z"), 0));
  }

  @Test
  void malformedMetadataFailsLoudlyNamingLayerAndKey() {
    assertThatThrownBy(() -> ModelAnnotations.fileMetadata(layer(RAW, Map.of(
        "org.cncf.model.file.metadata+json", "{not json"))))
        .isInstanceOf(MalformedMetadataException.class)
        .hasMessageContaining(DIGEST)
        .hasMessageContaining("org.cncf.model.file.metadata+json");
  }

  @Test
  void malformedCncfMetadataIsNotMaskedByAValidLegacyValue() {
    assertThatThrownBy(() -> ModelAnnotations.fileMetadata(layer(RAW, Map.of(
        "org.cncf.model.file.metadata+json", "[]",
        "org.cnai.model.file.metadata+json", "{\"mode\":420}"))))
        .isInstanceOf(MalformedMetadataException.class);
  }
}
