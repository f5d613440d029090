package org.modelpack.csi.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AuthChallengeTest {

  @Test
  void bearerChallengeWithCommaInsideQuotedScopeIsParsed() {
    List<AuthChallenge> all = AuthChallenge.parseAll(
        "Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
            + "scope=\"repository:ns/model:pull,push\"");
    assertThat(all).hasSize(1);
    AuthChallenge c = all.get(0);
    assertThat(c.isBearer()).isTrue();
    assertThat(c.realm()).isEqualTo("https://auth.example.com/token");
    assertThat(c.service()).isEqualTo("registry.example.com");
    assertThat(c.scopes()).containsExactly("repository:ns/model:pull,push");
  }

  @Test
  void schemeAndParameterNamesAreCaseInsensitive() {
    AuthChallenge c = AuthChallenge.parseAll("BEARER Realm=\"r\", SERVICE=s").get(0);
    assertThat(c.scheme()).isEqualTo("bearer");
    assertThat(c.realm()).isEqualTo("r");
    assertThat(c.service()).isEqualTo("s");
  }

  @Test
  void basicChallengeIsParsed() {
    AuthChallenge c = AuthChallenge.parseAll("Basic realm=\"Registry Realm\"").get(0);
    assertThat(c.isBasic()).isTrue();
    assertThat(c.realm()).isEqualTo("Registry Realm");
  }

  @Test
  void severalScopesAreSplitOnSpaces() {
    AuthChallenge c = AuthChallenge.parseAll(
        "Bearer realm=\"r\",scope=\"repository:a:pull repository:b:pull\"").get(0);
    assertThat(c.scopes()).containsExactly("repository:a:pull", "repository:b:pull");
  }

  @Test
  void escapedQuotesInsideValuesAreUnescaped() {
    AuthChallenge c = AuthChallenge.parseAll("Bearer realm=\"a\\\"b\",service=\"x\"").get(0);
    assertThat(c.realm()).isEqualTo("a\"b");
    assertThat(c.service()).isEqualTo("x");
  }

  @Test
  void severalChallengesInOneHeaderAreSeparatedAndBearerIsPreferred() {
    List<AuthChallenge> all = AuthChallenge.parseAll(
        "Basic realm=\"b\", Bearer realm=\"https://t\",service=\"s\"");
    assertThat(all).extracting(AuthChallenge::scheme).containsExactly("basic", "bearer");
    AuthChallenge picked = AuthChallenge.pick(List.of(
        "Basic realm=\"b\", Bearer realm=\"https://t\",service=\"s\""));
    assertThat(picked.isBearer()).isTrue();
  }

  @Test
  void missingOrEmptyHeaderYieldsNoChallenge() {
    assertThat(AuthChallenge.parseAll(null)).isEmpty();
    assertThat(AuthChallenge.parseAll("  ")).isEmpty();
    assertThat(AuthChallenge.pick(List.of())).isNull();
  }

  @Test
  void challengeWithoutScopeHasNoScopes() {
    assertThat(AuthChallenge.parseAll("Bearer realm=\"r\"").get(0).scopes()).isEmpty();
  }
}
