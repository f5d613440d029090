package org.modelpack.csi.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.testing.NodesWithRegistry;
import org.modelpack.csi.testing.TestNode;

/**
 * The background warm-up of the publish path runs to its end against the driver's real socket
 * and leaves root_dir as it found it: no scratch directory, no volume, nothing in the store.
 */
class PublishPathWarmupIT extends NodesWithRegistry {

  @Test
  void warmUpRunsToItsEndAndLeavesNoVolumeNorScratchDirectoryBehind() throws Exception {
    TestNode node = startNode("warmup", "");

    assertThat(node.plugin.publishPathWarmup().get(2, TimeUnit.MINUTES)).isTrue();

    try (Stream<Path> top = Files.list(node.root)) {
      assertThat(top.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("csi.sock", "volumes", "store", "staging", "driver.lock");
    }
    assertThat(entries(node.root.resolve("volumes"))).isEmpty();
    assertThat(node.plugin.store().entries()).isEmpty();
  }

  private static Stream<Path> entries(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList().stream();
    }
  }
}
