package org.modelpack.csi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.net.ConnectException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class GrpcFailuresTest {
  private static final Path SOCKET = Path.of("/run/csi/csi.sock");

  private static String message(Status status) {
    return GrpcFailures.of(status.asRuntimeException(), SOCKET, "10 s").getMessage();
  }

  @Test
  void unreachableDriverNamesTheSocketAndTheRootCause() {
    assertThat(message(Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new IllegalStateException("wrapped", new ConnectException(
            "connect(..) failed: Connection refused")))))
        .isEqualTo("cannot reach the driver at /run/csi/csi.sock: connect(..) failed: "
            + "Connection refused (is `model-csi-driver serve` running?)");
  }

  @Test
  void theDriversOwnUnavailableIsShownAsItsAnswer() {
    assertThat(message(Status.UNAVAILABLE.withDescription("registry r:5000 unreachable")))
        .isEqualTo("UNAVAILABLE: registry r:5000 unreachable");
  }

  @Test
  void deadlineExceededNamesTheTimeout() {
    assertThat(message(Status.DEADLINE_EXCEEDED.withDescription(
        "ClientCall started after CallOptions deadline was exceeded -0.0001s")))
        .isEqualTo("the driver at /run/csi/csi.sock did not answer within 10 s");
  }

  @Test
  void otherCodesAreTheCodeAndTheFirstLineOfTheDescription() {
    assertThat(message(Status.INVALID_ARGUMENT.withDescription("volume_id is required\n"
        + "  detail that follows")))
        .isEqualTo("INVALID_ARGUMENT: volume_id is required");
  }
}
