package org.modelpack.csi.csi;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;

class GrpcErrorsTest {

  @Test
  void aShortDescriptionIsSentUnchangedWithItsCode() {
    Status s = GrpcErrors.toStatus(new DriverException(ErrorKind.FAILED_PRECONDITION, "layer x"));
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(s.getDescription()).isEqualTo("layer x");
  }

  @Test
  void aLongDescriptionIsCutTo1KiBKeepingItsStartAndItsCause() {
    String message = "model m, layer 0: unsafe path '" + "a".repeat(10_000) + "': the cause";
    Status s = GrpcErrors.toStatus(new DriverException(ErrorKind.INVALID_ARGUMENT, message));
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).hasSize(GrpcErrors.MAX_DESCRIPTION_CHARS)
        .startsWith("model m, layer 0: unsafe path 'aaa")
        .contains("[… " + message.length() + " characters, cut …]")
        .endsWith("aaa': the cause");
  }

  @Test
  void unexpectedExceptionsAndPassedThroughStatusesAreBoundedToo() {
    Status internal = GrpcErrors.toStatus(new IllegalStateException("x".repeat(5000)));
    assertThat(internal.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(internal.getDescription()).hasSize(GrpcErrors.MAX_DESCRIPTION_CHARS);
    Status passed = GrpcErrors.toStatus(Status.NOT_FOUND.withDescription("y".repeat(5000))
        .asRuntimeException());
    assertThat(passed.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(passed.getDescription()).hasSize(GrpcErrors.MAX_DESCRIPTION_CHARS);
  }
}
