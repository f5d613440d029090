package org.modelpack.csi.store.archfixture;

import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.registry.RegistryClient;

/**
 * A deliberate layering violation, for {@code ArchitectureTest} to prove its rules catch one:
 * the store calling up into {@code pull} and across into {@code registry}. Test sources only.
 */
public final class StoreReachingUpIntoPull {
  private StoreReachingUpIntoPull() {}

  static Object misuse(ModelPuller puller, RegistryClient client) {
    return puller.toString() + client;
  }
}
