package org.modelpack.csi.registry;

import org.modelpack.csi.registry.auth.CredentialStore;

/**
 * Whether a manifest can be read with no credentials at all. Only such a model may be served
 * from the store without the registry: for any other, the registry must see the credentials.
 */
final class AnonymousReadProbe {
  private final RegistryAccess access;

  AnonymousReadProbe(RegistryAccess access) {
    this.access = access;
  }

  boolean readable(Reference ref) {
    try {
      if (access.credentials().lookup(ref.registry()).isAnonymous()) {
        return true; // it was just read with no credentials
      }
    } catch (RegistryException e) {
      return false;
    }
    try (RegistryAccess anonymous = access.withCredentials(CredentialStore.ANONYMOUS)) {
      new ManifestPuller(anonymous).fetchOne(ref);
      return true;
    } catch (RegistryException e) {
      return false;
    }
  }
}
