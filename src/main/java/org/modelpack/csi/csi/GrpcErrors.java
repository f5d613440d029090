package org.modelpack.csi.csi;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a call and turns its outcome into a gRPC response or a status with the right code. Every
 * service on the socket answers through it (the CSI ones and the operator's).
 */
public final class GrpcErrors {
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);
  /**
   * Longest status description sent. Messages quote artifact text, which is bounded where it is
   * quoted; this is the last line of defence, and it keeps the grpc-message header far below
   * the peers' metadata limits (8 KiB by default).
   */
  static final int MAX_DESCRIPTION_CHARS = 1024;
  /** Of a cut description, the end kept: where the cause of a chained message is. */
  private static final int KEPT_TAIL_CHARS = 300;

  private GrpcErrors() {}

  /** The status a call failing with {@code e} answers with (for streaming calls). */
  public static Status toStatus(Throwable e) {
    Status status;
    if (e instanceof DriverException d) {
      status = Status.fromCode(Status.Code.valueOf(d.kind().name())).withDescription(d.getMessage());
    } else if (e instanceof StatusRuntimeException s) {
      status = s.getStatus();
    } else {
      status = Status.INTERNAL.withDescription(e.toString());
    }
    return status.withDescription(bounded(status.getDescription()));
  }

  /**
   * {@code text} when it has at most {@link #MAX_DESCRIPTION_CHARS} characters; else its start
   * and end with a note of how much was cut between them.
   */
  static String bounded(String text) {
    if (text == null || text.length() <= MAX_DESCRIPTION_CHARS) {
      return text;
    }
    String marker = " [… " + text.length() + " characters, cut …] ";
    int head = MAX_DESCRIPTION_CHARS - KEPT_TAIL_CHARS - marker.length();
    return text.substring(0, head) + marker + text.substring(text.length() - KEPT_TAIL_CHARS);
  }

  public static <T> void respond(String method, StreamObserver<T> observer, Supplier<T> call) {
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
