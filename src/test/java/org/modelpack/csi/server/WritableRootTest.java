package org.modelpack.csi.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WritableRootTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  @TempDir Path tmp;
  private final AtomicLong now = new AtomicLong();

  @Test
  void answerIsReusedWithinTheTtlAndCheckedAgainAfterIt() throws IOException {
    Path scratch = Files.createDirectory(tmp.resolve("staging"));
    Path volumes = Files.createDirectory(tmp.resolve("volumes"));
    WritableRoot ready = new WritableRoot(scratch, List.of(volumes), TTL, now::get);
    assertThat(ready.getAsBoolean()).isTrue();

    Files.delete(volumes);
    now.addAndGet(TTL.toNanos() - 1);
    assertThat(ready.getAsBoolean()).as("cached").isTrue();
    now.incrementAndGet();
    assertThat(ready.getAsBoolean()).as("checked again").isFalse();

    Files.createDirectory(volumes);
    Files.delete(scratch);
    now.addAndGet(TTL.toNanos());
    assertThat(ready.getAsBoolean()).as("scratch area gone: nothing can be written").isFalse();

    Files.createDirectory(scratch);
    now.addAndGet(TTL.toNanos());
    assertThat(ready.getAsBoolean()).isTrue();
    try (Stream<Path> left = Files.list(scratch)) {
      assertThat(left).as("the probe file is deleted").isEmpty();
    }
  }
}
