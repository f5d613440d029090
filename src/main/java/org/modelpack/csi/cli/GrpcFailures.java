package org.modelpack.csi.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;

/** Failed calls to the driver as one readable line each. */
final class GrpcFailures {
  private GrpcFailures() {}

  /**
   * @param socket the driver's socket, named when it cannot be reached
   * @param waited how long the call was given, named when it ran out (e.g. "10 s")
   */
  static CliFailure of(StatusRuntimeException e, Path socket, String waited) {
    Status status = e.getStatus();
    // The transport's own failures carry their cause; the driver's answers never do (an
    // UNAVAILABLE from the driver means its registry is unreachable, not the driver).
    if (status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null) {
      return new CliFailure("cannot reach the driver at " + socket + ": "
          + OneLine.rootCause(status.getCause()) + " (is `model-csi-driver serve` running?)");
    }
    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return new CliFailure("the driver at " + socket + " did not answer within " + waited);
    }
    return new CliFailure(status.getCode() + ": " + OneLine.firstLine(status.getDescription()));
  }
}
