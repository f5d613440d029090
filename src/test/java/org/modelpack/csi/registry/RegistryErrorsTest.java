package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.registry.RegistryException.Kind;

class RegistryErrorsTest {
  private static byte[] body(String code, String message) {
    return ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + message
        + "\",\"detail\":{}}]}").getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void manifestUnknownIsNotFoundWithCodeAndMessageInTheText() {
    RegistryException e = RegistryErrors.fromResponse("manifest 127.0.0.1:5000/ns/model:v1",
        404, body("MANIFEST_UNKNOWN", "manifest unknown"));
    assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
    assertThat(e.getMessage()).isEqualTo(
        "manifest 127.0.0.1:5000/ns/model:v1 not found (404 MANIFEST_UNKNOWN: manifest unknown)");
  }

  @Test
  void statusesAndCodesMapToKinds() {
    assertThat(RegistryErrors.fromResponse("x", 401, new byte[0]).kind())
        .isEqualTo(Kind.UNAUTHENTICATED);
    assertThat(RegistryErrors.fromResponse("x", 403, new byte[0]).kind())
        .isEqualTo(Kind.PERMISSION_DENIED);
    // 401 always means "credentials missing or wrong", even with a DENIED code (Docker Hub
    // answers an anonymous token for a private repository that way).
    assertThat(RegistryErrors.fromResponse("x", 401, body("DENIED", "no")).kind())
        .isEqualTo(Kind.UNAUTHENTICATED);
    assertThat(RegistryErrors.fromResponse("x", 400, body("DENIED", "no")).kind())
        .isEqualTo(Kind.PERMISSION_DENIED);
    assertThat(RegistryErrors.fromResponse("x", 400, body("NAME_UNKNOWN", "n")).kind())
        .isEqualTo(Kind.NOT_FOUND);
    assertThat(RegistryErrors.fromResponse("x", 503, new byte[0]).kind())
        .isEqualTo(Kind.UNAVAILABLE);
    assertThat(RegistryErrors.fromResponse("x", 429, new byte[0]).kind())
        .isEqualTo(Kind.UNAVAILABLE);
    assertThat(RegistryErrors.fromResponse("x", 400, body("MANIFEST_INVALID", "bad")).kind())
        .isEqualTo(Kind.INVALID_ARGUMENT);
    assertThat(RegistryErrors.fromResponse("x", 204, new byte[0]).kind())
        .isEqualTo(Kind.INVALID_CONTENT);
  }

  @Test
  void nonJsonBodyFallsBackToTheStatus() {
    RegistryException e = RegistryErrors.fromResponse("blob b", 502,
        "<html>bad gateway</html>".getBytes(StandardCharsets.UTF_8));
    assertThat(e.getMessage()).isEqualTo("blob b unavailable (502)");
  }
}
