package org.modelpack.csi.registry;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retry budget of one logical operation (a manifest fetch, one blob or one part of a
 * ranged blob download). Failures count up; a try that moved bytes ({@link #progressed()})
 * resets the count, so a long transfer over a flaky link is not failed for having been
 * interrupted six times in an hour (docs/decisions/0301). Not thread-safe: one per operation.
 */
final class Retrier {
  private static final Logger LOG = LoggerFactory.getLogger(Retrier.class);

  /** What a {@link Retrier} needs from its client; shared by all its operations. */
  record Timing(RetryPolicy policy, Sleeper sleeper, Clock clock, DoubleSupplier random,
      RegistryStats stats) {
    /** Counting into a {@link RegistryStats} nobody reads. */
    Timing(RetryPolicy policy, Sleeper sleeper, Clock clock, DoubleSupplier random) {
      this(policy, sleeper, clock, random, new RegistryStats());
    }

    static Timing system(RetryPolicy policy) {
      return new Timing(policy, Sleeper.SYSTEM, Clock.systemUTC(),
          () -> ThreadLocalRandom.current().nextDouble());
    }
  }

  private final Timing timing;
  private final String subject;
  private int failures;

  Retrier(Timing timing, String subject) {
    this.timing = timing;
    this.subject = subject;
  }

  /** A single-try budget, for requests that must not be repeated (uploads). */
  static Retrier once(String subject) {
    return new Retrier(new Timing(new RetryPolicy(1, Duration.ZERO, Duration.ZERO),
        Sleeper.SYSTEM, Clock.systemUTC(), () -> 0), subject);
  }

  /** Bytes arrived since the last failure: the next failure starts the backoff afresh. */
  void progressed() {
    failures = 0;
  }

  /**
   * Records a failed try and waits before the next one. Returns false, without waiting, when the
   * budget is spent or the server's {@code Retry-After} is longer than {@link
   * RetryPolicy#MAX_RETRY_AFTER}; the caller then reports its failure.
   *
   * @param retryAfter the raw {@code Retry-After} header, or null
   * @throws RegistryException UNAVAILABLE when interrupted while waiting (interrupt flag kept)
   */
  boolean failedTry(String why, String retryAfter) throws RegistryException {
    failures++;
    if (failures >= timing.policy().attempts()) {
      return false;
    }
    Duration wait = timing.policy().backoff(failures, timing.random().getAsDouble());
    Duration asked = RetryPolicy.parseRetryAfter(retryAfter, timing.clock().instant())
        .orElse(null);
    if (asked != null) {
      if (asked.compareTo(RetryPolicy.MAX_RETRY_AFTER) > 0) {
        LOG.info("{}: {}; the registry asks to come back in {}, not waiting that long",
            subject, why, asked);
        return false;
      }
      wait = asked;
    }
    LOG.info("{}: {}; retry {} of {} in {} ms", subject, why, failures,
        timing.policy().attempts() - 1, wait.toMillis());
    try {
      timing.sleeper().sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException(Kind.UNAVAILABLE, subject + ": interrupted while waiting to "
          + "retry after: " + why, e);
    }
    return true;
  }

  /**
   * As {@link #failedTry(String, String)}, counting a retry for {@code cause} when there is
   * one.
   */
  boolean failedTry(RetryCause cause, String why, String retryAfter) throws RegistryException {
    boolean again = failedTry(why, retryAfter);
    if (again) {
      timing.stats().retried(cause);
    }
    return again;
  }

  /** Where this operation's retries and resumes are counted. */
  RegistryStats stats() {
    return timing.stats();
  }

  int failures() {
    return failures;
  }
}
