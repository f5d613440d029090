package org.modelpack.csi.registry.auth;

import org.modelpack.csi.registry.RegistryException;

/** Where credentials for a registry host come from; an interface so tests can supply fakes. */
public interface CredentialStore {

  CredentialStore ANONYMOUS = registry -> Credentials.ANONYMOUS;

  /**
   * Credentials for {@code registry} (the host[:port] of a {@code Reference}, e.g. {@code
   * docker.io}); {@link Credentials#ANONYMOUS} when none are configured.
   */
  Credentials lookup(String registry) throws RegistryException;
}
