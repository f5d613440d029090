package org.modelpack.csi.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modelpack.csi.config.MetricsAddress.Listener;

class MetricsAddressTest {
  @Test
  void unsetOrBlankTurnsMetricsOff() {
    assertThat(MetricsAddress.parse(null, "10.0.0.9").enabled()).isFalse();
    assertThat(MetricsAddress.parse("  ", null).listeners()).isEmpty();
  }

  @Test
  void podIpIsSubstitutedAndLoopbackIsAddedAsTheGoDriverDoes() {
    assertThat(MetricsAddress.parse("tcp://$POD_IP:5244", "10.0.0.9").listeners())
        .containsExactly(new Listener("10.0.0.9", 5244), new Listener("127.0.0.1", 5244));
  }

  @Test
  void unsetPodIpListensOnEveryAddressAndAddsNoLoopback() {
    assertThat(MetricsAddress.parse("tcp://$POD_IP:5244", null).listeners())
        .containsExactly(new Listener("0.0.0.0", 5244));
  }

  @Test
  void explicitHostIsKeptAndGetsLoopbackOnlyWhenPodIpIsSet() {
    assertThat(MetricsAddress.parse("tcp://192.0.2.1:9100", null).listeners())
        .containsExactly(new Listener("192.0.2.1", 9100));
    assertThat(MetricsAddress.parse("tcp://192.0.2.1:9100", "10.0.0.9").listeners())
        .containsExactly(new Listener("192.0.2.1", 9100), new Listener("127.0.0.1", 9100));
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp://127.0.0.1:5244", "tcp://0.0.0.0:5244", "tcp://localhost:5244",
      "tcp://[::]:5244"})
  void loopbackOrWildcardHostGetsNoSecondListenerThatWouldClash(String value) {
    assertThat(MetricsAddress.parse(value, "10.0.0.9").listeners()).hasSize(1);
  }

  @Test
  void ipv6PodIpIsBracketedInTheUrlAndBareInTheListener() {
    assertThat(MetricsAddress.parse("tcp://$POD_IP:5244", "fd00::9").listeners())
        .containsExactly(new Listener("fd00::9", 5244), new Listener("127.0.0.1", 5244));
    assertThat(new Listener("fd00::9", 5244)).hasToString("[fd00::9]:5244");
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1:5244", "http://127.0.0.1:5244", "tcp://127.0.0.1",
      "tcp://127.0.0.1:0", "tcp://127.0.0.1:70000", "tcp://127.0.0.1:5244/metrics",
      "tcp://:5244", "tcp://a b:1"})
  void anythingButTcpHostPortIsAConfigError(String value) {
    assertThatThrownBy(() -> MetricsAddress.parse(value, null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("metrics_addr")
        .hasMessageContaining(value);
  }
}
