package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.registry.RegistryException.Kind;

class RetryPolicyTest {
  private final RetryPolicy policy =
      new RetryPolicy(6, Duration.ofSeconds(1), Duration.ofSeconds(30));

  @Test
  void backoffDoublesPerFailureUpToTheMaximum() {
    assertThat(policy.backoff(1, 1.0)).isEqualTo(Duration.ofSeconds(1));
    assertThat(policy.backoff(2, 1.0)).isEqualTo(Duration.ofSeconds(2));
    assertThat(policy.backoff(3, 1.0)).isEqualTo(Duration.ofSeconds(4));
    assertThat(policy.backoff(5, 1.0)).isEqualTo(Duration.ofSeconds(16));
    assertThat(policy.backoff(6, 1.0)).isEqualTo(Duration.ofSeconds(30));
    assertThat(policy.backoff(1000, 1.0)).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void jitterKeepsAtLeastHalfOfTheDelay() {
    assertThat(policy.backoff(1, 0.0)).isEqualTo(Duration.ofMillis(500));
    assertThat(policy.backoff(3, 0.0)).isEqualTo(Duration.ofSeconds(2));
    assertThat(policy.backoff(3, 0.5)).isEqualTo(Duration.ofSeconds(3));
    assertThat(policy.backoff(9, 0.0)).isEqualTo(Duration.ofSeconds(15));
    for (int i = 0; i < 100; i++) {
      double r = i / 100.0;
      assertThat(policy.backoff(4, r)).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(8));
    }
  }

  @Test
  void invalidPoliciesAreRefused() {
    assertThatThrownBy(() -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("at least 1");
    assertThatThrownBy(() -> new RetryPolicy(3, Duration.ofSeconds(5), Duration.ofSeconds(1)))
        .hasMessageContaining("shorter than the initial");
  }

  @Test
  void retryAfterInSecondsOrAsAnHttpDate() {
    Instant now = Instant.parse("2026-11-24T10:00:00Z");
    assertThat(RetryPolicy.parseRetryAfter("1", now)).contains(Duration.ofSeconds(1));
    assertThat(RetryPolicy.parseRetryAfter(" 120 ", now)).contains(Duration.ofMinutes(2));
    assertThat(RetryPolicy.parseRetryAfter("Tue, 24 Nov 2026 10:00:07 GMT", now))
        .contains(Duration.ofSeconds(7));
    assertThat(RetryPolicy.parseRetryAfter("Tue, 24 Nov 2026 09:00:00 GMT", now))
        .contains(Duration.ZERO);
    assertThat(RetryPolicy.parseRetryAfter("soon", now)).isEmpty();
    assertThat(RetryPolicy.parseRetryAfter("-3", now)).isEmpty();
    assertThat(RetryPolicy.parseRetryAfter(null, now)).isEmpty();
  }

  @Test
  void retrierWaitsTheBackoffThenGivesUpAfterTheAttempts() throws Exception {
    List<Duration> waits = new ArrayList<>();
    Retrier r = new Retrier(new Retrier.Timing(new RetryPolicy(4, Duration.ofSeconds(1),
        Duration.ofSeconds(3)), waits::add, Clock.systemUTC(), () -> 1.0), "blob x");
    assertThat(r.failedTry("500", null)).isTrue();
    assertThat(r.failedTry("500", null)).isTrue();
    assertThat(r.failedTry("500", null)).isTrue();
    assertThat(r.failedTry("500", null)).isFalse();
    assertThat(waits).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2),
        Duration.ofSeconds(3));
  }

  @Test
  void progressResetsTheBudgetAndTheBackoff() throws Exception {
    List<Duration> waits = new ArrayList<>();
    Retrier r = new Retrier(new Retrier.Timing(new RetryPolicy(2, Duration.ofSeconds(1),
        Duration.ofSeconds(8)), waits::add, Clock.systemUTC(), () -> 1.0), "blob x");
    for (int i = 0; i < 5; i++) {
      assertThat(r.failedTry("reset", null)).isTrue();
      r.progressed();
    }
    assertThat(waits).hasSize(5).allMatch(Duration.ofSeconds(1)::equals);
  }

  @Test
  void retryAfterReplacesTheBackoffAndAnOverlongOneGivesUpAtOnce() throws Exception {
    List<Duration> waits = new ArrayList<>();
    Clock clock = Clock.fixed(Instant.parse("2026-11-24T10:00:00Z"), ZoneOffset.UTC);
    Retrier r = new Retrier(new Retrier.Timing(RetryPolicy.defaults(), waits::add, clock,
        () -> 0.0), "manifest x");
    assertThat(r.failedTry("429", "7")).isTrue();
    assertThat(r.failedTry("429", "Tue, 24 Nov 2026 10:00:02 GMT")).isTrue();
    assertThat(r.failedTry("429", "3600")).isFalse();
    assertThat(waits).containsExactly(Duration.ofSeconds(7), Duration.ofSeconds(2));
  }

  @Test
  void interruptedWaitIsUnavailableAndKeepsTheInterrupt() {
    Retrier r = new Retrier(new Retrier.Timing(RetryPolicy.defaults(), d -> {
      throw new InterruptedException();
    }, Clock.systemUTC(), () -> 0.0), "blob x");
    try {
      assertThatThrownBy(() -> r.failedTry("503", null))
          .isInstanceOfSatisfying(RegistryException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }
}
