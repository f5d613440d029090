package org.modelpack.csi.registry;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

/**
 * Why the registry client retried a request or resumed a transfer: a small closed set, so that
 * each is one metric label value (docs/decisions/1001-metrics.md).
 */
public enum RetryCause {
  /** The registry answered 5xx. */
  HTTP_5XX,
  /** The registry answered 429 Too Many Requests. */
  HTTP_429,
  /** No connection: refused, unknown host, no route, or the connect timeout. */
  CONNECT,
  /** Connected, but no answer within the stall timeout. */
  TIMEOUT,
  /** The connection broke (reset, aborted, closed) before the answer or during the body. */
  RESET,
  /** The body stopped arriving for the stall timeout. */
  STALL,
  /** The body ended before the bytes it announced. */
  CLOSED_EARLY,
  /** A 206 whose Content-Range is not the range asked for. */
  BAD_RANGE,
  /**
   * A download began again (a driver restart, or a new try after a failed one) and went on
   * from the bytes an earlier one left on disk.
   */
  RESTART;

  /** The label value: the name in lower case. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The cause of a request that failed with {@code e} before its answer's body was read. */
  static RetryCause ofRequest(IOException e) {
    if (e instanceof ConnectException || e instanceof UnknownHostException
        || e instanceof NoRouteToHostException) {
      return CONNECT;
    }
    if (e instanceof SocketTimeoutException) {
      // HttpURLConnection says which timeout fired only in its message.
      String m = e.getMessage();
      return m != null && m.contains("connect") ? CONNECT : TIMEOUT;
    }
    return RESET;
  }

  /** The cause of a body that failed with {@code e} while it was read. */
  static RetryCause ofBody(IOException e) {
    return e instanceof SocketTimeoutException ? STALL : RESET;
  }
}
