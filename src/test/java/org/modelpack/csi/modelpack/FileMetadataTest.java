package org.modelpack.csi.modelpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FileMetadataTest {

  @Test
  void modeIsDecimalPermissionBits() {
    assertThat(FileMetadata.parse("{\"mode\":420}").mode()).isEqualTo(0644);
    assertThat(FileMetadata.parse("{\"mode\":493}").mode()).isEqualTo(0755);
    assertThat(FileMetadata.parse("{\"mode\":493}").executable()).isTrue();
    assertThat(FileMetadata.parse("{\"mode\":420}").executable()).isFalse();
    assertThat(FileMetadata.toPermissions(FileMetadata.parse("{\"mode\":420}").mode()))
        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
  }

  @ParameterizedTest
  @CsvSource({
      "2026-11-23T22:17:46Z, 2026-11-23T22:17:46Z",
      "2026-11-23T22:17:46.5Z, 2026-11-23T22:17:46.500Z",
      "2026-11-23T22:17:46.25369018Z, 2026-11-23T22:17:46.253690180Z",
      "2026-11-23T22:17:46.123456789Z, 2026-11-23T22:17:46.123456789Z",
      "2026-11-24T06:17:46.1+08:00, 2026-11-23T22:17:46.100Z",
      "2026-11-23T17:17:46-05:00, 2026-11-23T22:17:46Z"
  })
  void mtimeAcceptsFractionsUpToNanosAndAnyOffset(String text, String expected) {
    assertThat(FileMetadata.parse("{\"mtime\":\"" + text + "\"}").mtime())
        .isEqualTo(Instant.parse(expected));
  }

  @Test
  void absentEmptyOrGoZeroMtimeIsNull() {
    assertThat(FileMetadata.parse("{}").mtime()).isNull();
    assertThat(FileMetadata.parse("{\"mtime\":\"\"}").mtime()).isNull();
    assertThat(FileMetadata.parse("{\"mtime\":null}").mtime()).isNull();
    assertThat(FileMetadata.parse("{\"mtime\":\"0001-01-01T00:00:00Z\"}").mtime()).isNull();
  }

  @Test
  void missingFieldsGetNeutralDefaults() {
    FileMetadata m = FileMetadata.parse("{}");
    assertThat(m.name()).isNull();
    assertThat(m.mode()).isZero();
    assertThat(m.uid()).isZero();
    assertThat(m.gid()).isZero();
    assertThat(m.size()).isEqualTo(-1);
    assertThat(m.typeflag()).isEqualTo(FileMetadata.TYPE_REGULAR);
  }

  @Test
  void unknownFieldsAreIgnored() {
    assertThat(FileMetadata.parse("{\"mode\":420,\"extra\":{\"a\":1}}").mode()).isEqualTo(0644);
  }

  @Test
  void typeflagIsNumericButAsciiFlagsAreTolerated() {
    assertThat(FileMetadata.parse("{\"typeflag\":5}").typeflag()).isEqualTo(5);
    assertThat(FileMetadata.parse("{\"typeflag\":2}").typeflag()).isEqualTo(2);
    assertThat(FileMetadata.parse("{\"typeflag\":53}").typeflag()).isEqualTo(5);
    assertThat(FileMetadata.parse("{\"typeflag\":\"0\"}").typeflag()).isEqualTo(0);
  }

  @Test
  void uidAndGidCoverTheUnsigned32BitRange() {
    FileMetadata m = FileMetadata.parse("{\"uid\":4294967295,\"gid\":65534}");
    assertThat(m.uid()).isEqualTo(4294967295L);
    assertThat(m.gid()).isEqualTo(65534);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "not json", "[]", "\"x\"", "{\"mode\":\"420\"}", "{\"mode\":-1}", "{\"mode\":4.5}",
      "{\"mtime\":\"yesterday\"}", "{\"mtime\":\"2026-11-23 22:17:46\"}", "{\"mtime\":12}",
      "{\"uid\":4294967296}", "{\"typeflag\":\"regular\"}", "{\"name\":7}"
  })
  void malformedValuesAreRejected(String json) {
    assertThatThrownBy(() -> FileMetadata.parse(json)).isInstanceOf(MalformedMetadataException.class);
  }
}
