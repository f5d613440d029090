package org.modelpack.csi.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RegistrySettingsTest {

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1:5000", "127.1.2.3", "localhost:5000", "localhost",
      "[::1]:5000", "[::1]", "[0:0:0:0:0:0:0:1]:80"})
  void loopbackHostsUsePlainHttp(String host) {
    assertThat(RegistrySettings.defaults().plainHttpConfigured(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"registry.example.com", "10.0.0.1:5000", "[2001:db8::1]:5000",
      "localhost.example.com", "128.0.0.1"})
  void otherHostsUseHttpsByDefault(String host) {
    assertThat(RegistrySettings.defaults().plainHttpConfigured(host)).isFalse();
  }

  @Test
  void configuredHostsMatchWithOrWithoutPort() {
    RegistrySettings s = new RegistrySettings(null, Set.of("Reg.local", "other:5000"), null,
        null, null);
    assertThat(s.plainHttpConfigured("reg.local:5000")).isTrue();
    assertThat(s.plainHttpConfigured("reg.local")).isTrue();
    assertThat(s.plainHttpConfigured("other:5000")).isTrue();
    assertThat(s.plainHttpConfigured("other:6000")).isFalse();
  }

  @Test
  void proxyUrlMustBeHttpHostPort() {
    assertThat(new RegistrySettings(null, null, "http://proxy:3128", null, null)
        .proxyAddress().getPort()).isEqualTo(3128);
    assertThatThrownBy(() -> new RegistrySettings(null, null, "proxy:3128", null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http://host:port");
  }

  @Test
  void defaultsAreFilledIn() {
    RegistrySettings s = RegistrySettings.defaults();
    assertThat(s.connectTimeout()).isEqualTo(RegistrySettings.DEFAULT_CONNECT_TIMEOUT);
    assertThat(s.userAgent()).isEqualTo(RegistrySettings.DEFAULT_USER_AGENT);
    assertThat(s.proxyAddress()).isNull();
  }
}
