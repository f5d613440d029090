package org.modelpack.csi.error;

/**
 * Why an operation failed, in the driver's own words. The CSI layer maps each kind one-to-one to
 * a gRPC status code; nothing below it knows about gRPC.
 */
public enum ErrorKind {
  INVALID_ARGUMENT,
  NOT_FOUND,
  ALREADY_EXISTS,
  FAILED_PRECONDITION,
  UNAUTHENTICATED,
  PERMISSION_DENIED,
  RESOURCE_EXHAUSTED,
  UNAVAILABLE,
  ABORTED,
  INTERNAL
}
