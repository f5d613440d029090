package org.modelpack.csi.e2e;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.FaultProxy;
import org.modelpack.csi.testing.RegistryServer;

/**
 * Base of the crash suite's classes: one real registry for the class, a fault proxy in front
 * of it (to slow transfers down so a kill lands inside them), and the suite's models pushed.
 */
abstract class CrashSuiteRegistry {
  @TempDir static Path tmp;
  static RegistryServer registry;
  static FaultProxy proxy;
  static CrashModels models;

  @BeforeAll
  static void registryAndModels() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    proxy = FaultProxy.start(registry.host());
    models = CrashModels.push(tmp.resolve("artifacts"), registry.host(), proxy.host(),
        tmp.resolve("docker"));
  }

  @AfterAll
  static void stopRegistry() throws Exception {
    Closeables.closeAll(proxy, registry);
  }
}
