package org.modelpack.csi.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.registry.RegistryException;

class AuthenticatorTest {
  private static final List<String> PULL = List.of("repository:ns/m:pull");
  private static final AuthChallenge BEARER = AuthChallenge.parseAll(
      "Bearer realm=\"https://auth.example.com/token\",service=\"svc\","
          + "scope=\"repository:ns/m:pull\"").get(0);

  /** Records calls and answers from a queue; an empty queue answers with a token. */
  private static final class FakeEndpoint implements TokenEndpoint {
    final List<String> calls = new ArrayList<>();
    final List<Answer> queue = new ArrayList<>();
    int counter;

    @Override
    public Answer get(URI realm, String service, List<String> scopes, String authorization) {
      calls.add("GET " + realm + " " + service + " " + scopes + " " + authorization);
      return next();
    }

    @Override
    public Answer post(URI realm, Map<String, String> form) {
      calls.add("POST " + realm + " " + form);
      return next();
    }

    private Answer next() {
      return queue.isEmpty() ? new Answer(200, "tok" + (++counter), 300) : queue.remove(0);
    }
  }

  private static final class MutableClock extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final FakeEndpoint endpoint = new FakeEndpoint();
  private final MutableClock clock = new MutableClock();

  @Test
  void anonymousBearerFlowFetchesATokenWithoutAuthorization() throws Exception {
    Authenticator a = new Authenticator(CredentialStore.ANONYMOUS, endpoint, clock);
    assertThat(a.authorize("r.io", BEARER, PULL)).isEqualTo("Bearer tok1");
    assertThat(endpoint.calls).containsExactly(
        "GET https://auth.example.com/token svc [repository:ns/m:pull] null");
  }

  @Test
  void basicCredentialsAreSentToTheTokenServer() throws Exception {
    Authenticator a = new Authenticator(r -> Credentials.basic("u", "p"), endpoint, clock);
    a.authorize("r.io", BEARER, PULL);
    assertThat(endpoint.calls.get(0)).endsWith("Basic dTpw");
  }

  @Test
  void tokenIsCachedPerRegistryAndScopeUntilItExpires() throws Exception {
    Authenticator a = new Authenticator(CredentialStore.ANONYMOUS, endpoint, clock);
    a.authorize("r.io", BEARER, PULL);
    assertThat(a.cachedAuthorization("r.io", PULL)).isEqualTo("Bearer tok1");
    assertThat(a.cachedAuthorization("r.io", List.of("repository:other:pull"))).isNull();
    assertThat(a.cachedAuthorization("other.io", PULL)).isNull();
    clock.now = clock.now.plus(Duration.ofSeconds(300));
    assertThat(a.cachedAuthorization("r.io", PULL)).isNull();
  }

  @Test
  void challengeScopesAreMergedWithRequestedScopes() throws Exception {
    Authenticator a = new Authenticator(CredentialStore.ANONYMOUS, endpoint, clock);
    a.authorize("r.io", BEARER, List.of("repository:ns/m:pull,push"));
    assertThat(endpoint.calls.get(0))
        .contains("[repository:ns/m:pull, repository:ns/m:pull,push]");
  }

  @Test
  void identityTokenUsesOauthRefreshGrant() throws Exception {
    Authenticator a = new Authenticator(
        r -> new Credentials(null, null, "refresh", null), endpoint, clock);
    assertThat(a.authorize("r.io", BEARER, PULL)).isEqualTo("Bearer tok1");
    assertThat(endpoint.calls).hasSize(1);
    assertThat(endpoint.calls.get(0)).startsWith("POST ")
        .contains("grant_type=refresh_token").contains("refresh_token=refresh");
  }

  @Test
  void identityTokenFallsBackToGetWhenPostIsNotSupported() throws Exception {
    endpoint.queue.add(new TokenEndpoint.Answer(405, null, 0));
    Authenticator a = new Authenticator(
        r -> new Credentials(null, null, "refresh", null), endpoint, clock);
    assertThat(a.authorize("r.io", BEARER, PULL)).isEqualTo("Bearer tok1");
    assertThat(endpoint.calls).hasSize(2);
    assertThat(endpoint.calls.get(1)).startsWith("GET ")
        .endsWith(Authenticator.basic("<token>", "refresh"));
  }

  @Test
  void registryTokenIsUsedDirectly() throws Exception {
    Authenticator a = new Authenticator(
        r -> new Credentials(null, null, null, "ready"), endpoint, clock);
    assertThat(a.authorize("r.io", BEARER, PULL)).isEqualTo("Bearer ready");
    assertThat(endpoint.calls).isEmpty();
  }

  @Test
  void basicChallengeIsAnsweredAndRememberedForTheRegistry() throws Exception {
    Authenticator a = new Authenticator(r -> Credentials.basic("u", "p"), endpoint, clock);
    AuthChallenge basic = AuthChallenge.parseAll("Basic realm=\"x\"").get(0);
    assertThat(a.authorize("r.io", basic, PULL)).isEqualTo("Basic dTpw");
    assertThat(a.cachedAuthorization("r.io", List.of("anything"))).isEqualTo("Basic dTpw");
  }

  @Test
  void basicChallengeWithoutCredentialsIsUnauthenticated() {
    Authenticator a = new Authenticator(CredentialStore.ANONYMOUS, endpoint, clock);
    AuthChallenge basic = AuthChallenge.parseAll("Basic realm=\"x\"").get(0);
    assertThatThrownBy(() -> a.authorize("r.io", basic, PULL))
        .isInstanceOf(RegistryException.class)
        .satisfies(e -> assertThat(((RegistryException) e).kind())
            .isEqualTo(RegistryException.Kind.UNAUTHENTICATED));
  }

  @Test
  void refusedTokenIsUnauthenticatedAndDoesNotLeakThePassword() {
    endpoint.queue.add(new TokenEndpoint.Answer(401, null, 0));
    Authenticator a = new Authenticator(r -> Credentials.basic("u", "hunter2"), endpoint, clock);
    assertThatThrownBy(() -> a.authorize("r.io", BEARER, PULL))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("r.io")
        .hasMessageNotContaining("hunter2")
        .hasMessageNotContaining(Authenticator.basic("u", "hunter2").substring(6));
  }

  @Test
  void bearerChallengeWithoutRealmIsRejected() {
    Authenticator a = new Authenticator(CredentialStore.ANONYMOUS, endpoint, clock);
    AuthChallenge c = AuthChallenge.parseAll("Bearer service=\"x\"").get(0);
    assertThatThrownBy(() -> a.authorize("r.io", c, PULL)).hasMessageContaining("realm");
  }
}
