package org.modelpack.csi.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;

/**
 * Base of integration tests that start node plugins in this JVM against one local registry
 * (needs root). The registry and a client that pushes to it live as long as the test class;
 * the nodes, tmpfs mounts and servers a test starts are closed after it, bind mounts under
 * {@code pods/} first, so a failure never leaves one serving.
 */
public abstract class NodesWithRegistry {
  @TempDir protected static Path tmp;
  protected static RegistryServer registry;
  protected static RegistryClient pusher;
  private final List<AutoCloseable> running = new ArrayList<>();

  @BeforeAll
  protected static void startRegistry() throws Exception {
    registry = RegistryServer.start(tmp.resolve("registry"));
    pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(tmp.resolve("no-docker-config")));
  }

  @AfterEach
  protected void closeWhatTheTestStarted() throws Exception {
    CsiRequests.unmountAllUnder(tmp.resolve("pods"));
    Closeables.closeReversed(running);
  }

  @AfterAll
  protected static void stopRegistry() throws Exception {
    // Whatever is still mounted below (bind mounts, tmpfs), deepest first.
    CsiRequests.unmountAllUnder(tmp);
    Closeables.closeAll(pusher, registry);
  }

  /**
   * A node rooted at {@code tmp/rootName}, pulling anonymously, watermarks off (see {@link
   * TestNode#startAnonymousWithoutWatermarks}); closed after the test.
   */
  protected TestNode startNode(String rootName, String cacheLines, String moreYaml)
      throws IOException {
    return closeAfterTest(TestNode.startAnonymousWithoutWatermarks(tmp.resolve(rootName), tmp,
        cacheLines, moreYaml));
  }

  protected TestNode startNode(String rootName, String cacheLines) throws IOException {
    return startNode(rootName, cacheLines, "");
  }

  /**
   * A node at {@code tmp/rootName} for pulls that stall: a publish waits 1 s (so a slow pull
   * answers ABORTED and is asked for again), a stalled transfer is resumed after 3 s.
   */
  protected TestNode startNodeForStalledPulls(String rootName) throws IOException {
    return closeAfterTest(TestNode.start(tmp.resolve(rootName), tmp, """
        pull_config:
          docker_config_dir: %s
          publish_wait_seconds: 1
          stall_timeout: 3s
          retry_initial_backoff: 100ms
        """.formatted(tmp.resolve("no-docker-config"))));
  }

  /**
   * A proxy to the registry, closed after the test, on which {@code file}'s blob of {@code
   * artifact} stalls after its first MiB (once; the node's resume then gets the rest).
   */
  protected FaultProxy stallingAfterOneMiB(ModelArtifactBuilder.PushedArtifact artifact,
      String file) throws IOException {
    FaultProxy proxy = closeAfterTest(FaultProxy.start(registry.host()));
    proxy.inject(FaultProxy.on("sha256:" + artifact.file(file).sha256()).stallAfter(1 << 20));
    return proxy;
  }

  /** Closes {@code c} after the test, before anything started earlier. */
  protected <T extends AutoCloseable> T closeAfterTest(T c) {
    running.add(c);
    return c;
  }

  protected static Reference ref(String repoAndTag) {
    return Reference.parse(registry.host() + "/" + repoAndTag);
  }

  /** Where kubelet would ask for {@code volume}'s mount. */
  protected static Path target(String volume) {
    return tmp.resolve("pods").resolve(volume).resolve("volumes/model");
  }

  /** A tmpfs of {@code size} under the test's directory, unmounted after the test. */
  protected Path mountTmpfs(String name, String size) throws IOException, InterruptedException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Commands.run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
    closeAfterTest(() -> Commands.run("umount", "--lazy", dir.toString()));
    return dir;
  }
}
