package org.modelpack.csi.error;

/** A failure with a kind the caller can act on and a message fit to show a user. */
public class DriverException extends RuntimeException {
  private final ErrorKind kind;

  public DriverException(ErrorKind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public DriverException(ErrorKind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public ErrorKind kind() {
    return kind;
  }
}
