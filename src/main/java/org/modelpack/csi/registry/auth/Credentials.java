package org.modelpack.csi.registry.auth;

/**
 * Credentials for one registry. At most one style is normally set: username+password, an
 * identity (OAuth2 refresh) token, or a ready registry (bearer) token. All fields may be null;
 * {@link #ANONYMOUS} has none. {@link #toString()} never shows secrets, so a record printed in a
 * log line or exception cannot leak them.
 */
public record Credentials(String username, String password, String identityToken,
    String registryToken) {

  public static final Credentials ANONYMOUS = new Credentials(null, null, null, null);

  public static Credentials basic(String username, String password) {
    return new Credentials(username, password, null, null);
  }

  public boolean isAnonymous() {
    return !hasBasic() && !hasIdentityToken() && !hasRegistryToken();
  }

  public boolean hasBasic() {
    return notEmpty(username) && password != null && !password.isEmpty();
  }

  public boolean hasIdentityToken() {
    return notEmpty(identityToken);
  }

  public boolean hasRegistryToken() {
    return notEmpty(registryToken);
  }

  private static boolean notEmpty(String s) {
    return s != null && !s.isEmpty();
  }

  @Override
  public String toString() {
    return "Credentials[username=" + (username == null ? "<none>" : username)
        + ", password=" + mask(password) + ", identityToken=" + mask(identityToken)
        + ", registryToken=" + mask(registryToken) + "]";
  }

  private static String mask(String s) {
    return notEmpty(s) ? "***" : "<none>";
  }
}
