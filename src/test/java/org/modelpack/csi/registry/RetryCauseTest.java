package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The causes retries and resumes are counted under, and that only retries made are counted. */
class RetryCauseTest {
  @Test
  void requestFailuresAreConnectTimeoutOrReset() {
    assertThat(RetryCause.ofRequest(new ConnectException("Connection refused")))
        .isEqualTo(RetryCause.CONNECT);
    assertThat(RetryCause.ofRequest(new UnknownHostException("registry.invalid")))
        .isEqualTo(RetryCause.CONNECT);
    assertThat(RetryCause.ofRequest(new SocketTimeoutException("connect timed out")))
        .isEqualTo(RetryCause.CONNECT);
    assertThat(RetryCause.ofRequest(new SocketTimeoutException("Read timed out")))
        .isEqualTo(RetryCause.TIMEOUT);
    assertThat(RetryCause.ofRequest(new SocketException("Connection reset")))
        .isEqualTo(RetryCause.RESET);
    assertThat(RetryCause.ofRequest(new EOFException("Unexpected end of file from server")))
        .isEqualTo(RetryCause.RESET);
  }

  @Test
  void bodyFailuresAreStallOrReset() {
    assertThat(RetryCause.ofBody(new SocketTimeoutException("Read timed out")))
        .isEqualTo(RetryCause.STALL);
    assertThat(RetryCause.ofBody(new SocketException("Connection reset")))
        .isEqualTo(RetryCause.RESET);
  }

  @Test
  void labelsAreTheLowerCaseNames() {
    assertThat(RetryCause.HTTP_5XX.label()).isEqualTo("http_5xx");
    assertThat(RetryCause.CLOSED_EARLY.label()).isEqualTo("closed_early");
  }

  @Test
  void aRetryIsCountedOnlyWhenTheBudgetAllowsIt() throws Exception {
    RegistryStats stats = new RegistryStats();
    Retrier r = new Retrier(new Retrier.Timing(new RetryPolicy(2, Duration.ZERO, Duration.ZERO),
        d -> { }, Clock.systemUTC(), () -> 0, stats), "blob x");

    assertThat(r.failedTry(RetryCause.HTTP_5XX, "got HTTP 503", null)).isTrue();
    assertThat(r.failedTry(RetryCause.HTTP_5XX, "got HTTP 503", null)).isFalse();

    assertThat(stats.retries(RetryCause.HTTP_5XX)).isEqualTo(1);
    assertThat(stats.resumes(RetryCause.HTTP_5XX)).isZero();
  }
}
