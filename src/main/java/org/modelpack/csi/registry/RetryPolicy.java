package org.modelpack.csi.registry;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import org.modelpack.csi.config.PullConfig;

/**
 * How often and how patiently a registry request is retried after a connection error, a 5xx or
 * a 429 (see docs/decisions/0301).
 *
 * <p>Backoff is exponential with "equal jitter": the n-th consecutive failure waits a random
 * time in {@code [d/2, d]} where {@code d = min(max, initial * 2^(n-1))}. Half the delay is
 * guaranteed, so a retry storm cannot collapse to zero waits, and the random half spreads out
 * many nodes that failed at the same moment.
 *
 * @param attempts tries per request counted without progress (1 = no retries)
 * @param initialBackoff the first wait's upper bound
 * @param maxBackoff no computed wait is longer than this
 */
public record RetryPolicy(int attempts, Duration initialBackoff, Duration maxBackoff) {
  /**
   * A {@code Retry-After} longer than this is not waited for: the request fails at once as
   * UNAVAILABLE and the caller (kubelet's publish retry) comes back later.
   */
  public static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);

  public RetryPolicy {
    if (attempts < 1) {
      throw new IllegalArgumentException("retry attempts must be at least 1, got " + attempts);
    }
    if (initialBackoff == null || initialBackoff.isNegative()
        || maxBackoff == null || maxBackoff.isNegative()) {
      throw new IllegalArgumentException("backoffs must be non-negative durations");
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("max backoff " + maxBackoff
          + " is shorter than the initial backoff " + initialBackoff);
    }
  }

  /** The configuration's defaults (docs/decisions/0930). */
  public static RetryPolicy defaults() {
    return new RetryPolicy(PullConfig.DEFAULT_RETRY_ATTEMPTS,
        PullConfig.DEFAULT_RETRY_INITIAL_BACKOFF, PullConfig.DEFAULT_RETRY_MAX_BACKOFF);
  }

  /**
   * The wait before the next try after {@code failures} consecutive failures (1 = the first
   * failure), with {@code random} in {@code [0, 1)} choosing within the jitter range.
   */
  public Duration backoff(int failures, double random) {
    long initial = initialBackoff.toNanos();
    long max = maxBackoff.toNanos();
    long ceiling = initial;
    for (int i = 1; i < failures && ceiling < max; i++) {
      ceiling = ceiling > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : ceiling * 2;
    }
    ceiling = Math.min(ceiling, max);
    long half = ceiling / 2;
    double r = Math.min(Math.max(random, 0.0), 1.0);
    return Duration.ofNanos(half + (long) ((ceiling - half) * r));
  }

  /**
   * Parses a {@code Retry-After} value: delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date
   * in the past means "now" (zero); anything unparsable is empty (the computed backoff applies).
   */
  public static Optional<Duration> parseRetryAfter(String value, Instant now) {
    if (value == null) {
      return Optional.empty();
    }
    String v = value.trim();
    if (v.matches("\\d{1,10}")) {
      return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
    }
    try {
      Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Duration d = Duration.between(now, at);
      return Optional.of(d.isNegative() ? Duration.ZERO : d);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
