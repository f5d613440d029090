package org.modelpack.csi.server;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's readiness as CSI {@code Probe} and {@code /healthz} report it: the directories a
 * publish writes to are writable, proven by creating and deleting a small file in root_dir's
 * scratch area (a read-only remount, a full or failing disk all fail it). kubelet's
 * livenessprobe calls Probe every few seconds, so one answer is reused for {@link #TTL}. A change
 * of the answer is logged once, with the reason (docs/decisions/1040-health.md).
 */
final class WritableRoot implements BooleanSupplier {
  private static final Logger log = LoggerFactory.getLogger(WritableRoot.class);
  static final Duration TTL = Duration.ofSeconds(3);

  private final Path scratch;
  private final List<Path> dirs;
  private final Duration ttl;
  private final LongSupplier nanoTime;
  private boolean checked;
  private long checkedAt;
  private Optional<String> problem = Optional.empty();

  /**
   * @param scratch where the probe file is written (the driver's own, nothing else reads it)
   * @param dirs further directories publishes write to, checked with access(2) only
   */
  WritableRoot(Path scratch, List<Path> dirs, Duration ttl, LongSupplier nanoTime) {
    this.scratch = scratch;
    this.dirs = List.copyOf(dirs);
    this.ttl = ttl;
    this.nanoTime = nanoTime;
  }

  WritableRoot(Path scratch, List<Path> dirs) {
    this(scratch, dirs, TTL, System::nanoTime);
  }

  @Override
  public synchronized boolean getAsBoolean() {
    long now = nanoTime.getAsLong();
    if (!checked || now - checkedAt >= ttl.toNanos()) {
      Optional<String> found = check();
      if (found.isPresent() && !found.equals(problem)) {
        log.warn("not ready: {}", found.get());
      } else if (found.isEmpty() && problem.isPresent()) {
        log.info("ready again: {} is writable", scratch);
      }
      problem = found;
      checked = true;
      checkedAt = now;
    }
    return problem.isEmpty();
  }

  private Optional<String> check() {
    for (Path d : dirs) {
      if (!Files.isDirectory(d) || !Files.isWritable(d)) {
        return Optional.of(d + " is not a writable directory");
      }
    }
    try {
      Files.delete(Files.createTempFile(scratch, ".probe-", ""));
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      String why = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
          : e.toString();
      return Optional.of("cannot write in " + scratch + ": " + why);
    }
  }
}
