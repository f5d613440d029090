package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.modelpack.csi.error.DriverException;

/**
 * Failures as the API answers them: {@code {"code","message"}} with the Go driver's codes and
 * statuses (400 INVALID_ARGUMENT, 404 NOT_FOUND, 406 INSUFFICIENT_DISK_QUOTA, 500 INTERNAL),
 * plus 409 ALREADY_EXISTS (a mount id taken by another model; the Go driver says 500) and 403
 * PERMISSION_DENIED (a socket asked about another volume; decision 1123).
 */
final class ApiErrors {
  private ApiErrors() {}

  record Body(@JsonProperty("code") String code, @JsonProperty("message") String message) {}

  /** An HTTP status with its body. */
  record ApiError(int status, Body body) {
    static ApiError of(int status, String code, String message) {
      return new ApiError(status, new Body(code, message));
    }
  }

  static ApiError of(Throwable e) {
    Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
        ? e.getCause() : e;
    if (t instanceof DriverException d) {
      return switch (d.kind()) {
        case INVALID_ARGUMENT -> ApiError.of(400, "INVALID_ARGUMENT", d.getMessage());
        case NOT_FOUND -> ApiError.of(404, "NOT_FOUND", d.getMessage());
        case ALREADY_EXISTS -> ApiError.of(409, "ALREADY_EXISTS", d.getMessage());
        case RESOURCE_EXHAUSTED -> ApiError.of(406, "INSUFFICIENT_DISK_QUOTA", d.getMessage());
        default -> ApiError.of(500, "INTERNAL", d.kind() + ": " + d.getMessage());
      };
    }
    return ApiError.of(500, "INTERNAL", String.valueOf(t));
  }
}
