package org.modelpack.csi.csi;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a call and turns its outcome into a gRPC response or a status with the right code. */
final class GrpcErrors {
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

  private GrpcErrors() {}

  static Status toStatus(Throwable e) {
    if (e instanceof DriverException d) {
      return Status.fromCode(Status.Code.valueOf(d.kind().name())).withDescription(d.getMessage());
    }
    if (e instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    return Status.INTERNAL.withDescription(e.toString());
  }

  static <T> void respond(String method, StreamObserver<T> observer, Supplier<T> call) {
    long start = System.nanoTime();
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      Status status = toStatus(e);
      if (e instanceof DriverException d && d.kind() != ErrorKind.INTERNAL) {
        log.warn("{} failed: {} {}", method, status.getCode(), status.getDescription());
      } else {
        log.error("{} failed: {} {}", method, status.getCode(), status.getDescription(), e);
      }
      observer.onError(status.asRuntimeException());
      return;
    }
    log.debug("{} succeeded in {} ms", method, (System.nanoTime() - start) / 1_000_000);
    observer.onNext(response);
    observer.onCompleted();
  }

  static DriverException invalid(String message) {
    return new DriverException(ErrorKind.INVALID_ARGUMENT, message);
  }
}
