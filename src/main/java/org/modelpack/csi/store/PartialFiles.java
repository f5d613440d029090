package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.oci.Digest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The downloads in {@code ingest/} that a later try, or the next driver process, may go on
 * with: {@code <alg>-<hex>.partial} and the sidecar naming its trusted prefix
 * ({@code <alg>-<hex>.partial.at}, see {@link PartialDownload}); decision 1250. One name per
 * digest is safe because one driver owns a root_dir and this class hands each name to one
 * download at a time; a second download of the digest meanwhile (a cancelled one still
 * unwinding) writes under a one-off name that is never resumed.
 *
 * <p>Bounds: a partial nobody wrote for {@link #MAX_IDLE} is removed (at start, and while running
 * at most every {@link #SWEEP_EVERY} when a download starts); when the disk is full every
 * partial not being written goes.
 */
final class PartialFiles {
  private static final Logger log = LoggerFactory.getLogger(PartialFiles.class);
  static final Duration MAX_IDLE = Duration.ofHours(1);
  private static final Duration SWEEP_EVERY = Duration.ofMinutes(10);
  private static final Pattern RESUMABLE =
      Pattern.compile("(sha256-[a-f0-9]{64}|sha512-[a-f0-9]{128})\\.partial");
  static final String SIDECAR = ".at";
  private static final AtomicLong ONE_OFF = new AtomicLong();

  private final Path ingest;
  /** Names handed out and not given back. Guarded by {@code this}. */
  private final Set<Path> claimed = new HashSet<>();
  /** Guarded by {@code this}. */
  private Instant nextSweep = Instant.EPOCH;

  PartialFiles(Path ingest) {
    this.ingest = ingest;
  }

  /** The partial download of {@code digest}, this caller's until it closes it. */
  PartialDownload claim(String digest) throws IOException {
    Digest d = Digest.parse(digest);
    Path own = ingest.resolve(d.algorithm() + "-" + d.hex() + ".partial");
    synchronized (this) {
      Instant now = Instant.now();
      if (now.isAfter(nextSweep)) {
        nextSweep = now.plus(SWEEP_EVERY);
        removeIdle(now.minus(MAX_IDLE));
      }
      if (claimed.add(own)) {
        return new PartialDownload(own, true, this::giveBack);
      }
      Path oneOff = ingest.resolve(d.algorithm() + "-" + d.hex() + "."
          + ProcessHandle.current().pid() + "-" + ONE_OFF.incrementAndGet() + ".partial");
      claimed.add(oneOff);
      return new PartialDownload(oneOff, false, this::giveBack);
    }
  }

  private synchronized void giveBack(Path partial) {
    claimed.remove(partial);
  }

  /** Removes every resumable partial nobody is writing (the disk is full). */
  synchronized int removeAllIdle() throws IOException {
    return removeIdle(Instant.MAX);
  }

  /**
   * At start, before any download: keeps each resumable partial with its sidecar that was
   * written to within {@link #MAX_IDLE}, and removes everything else in {@code ingest/} (other
   * downloads, extractions and evictions a crash interrupted). Returns the partials kept.
   */
  static int clearAtStart(Path ingest) throws IOException {
    Instant oldest = Instant.now().minus(MAX_IDLE);
    int kept = 0;
    try (DirectoryStream<Path> items = Files.newDirectoryStream(ingest)) {
      for (Path p : items) {
        if (isFreshPartial(p, oldest) || isSidecarOf(p, oldest)) {
          kept += p.getFileName().toString().endsWith(SIDECAR) ? 0 : 1;
          continue;
        }
        ReadOnly.makeDeletable(p);
        FileTrees.delete(p);
      }
    }
    if (kept > 0) {
      log.info("kept {} partial downloads in {} to resume", kept, ingest);
    }
    return kept;
  }

  /** Removes unclaimed resumable partials (and sidecars) not written since {@code before}. */
  private int removeIdle(Instant before) throws IOException {
    if (!Files.isDirectory(ingest)) {
      return 0;
    }
    int removed = 0;
    try (DirectoryStream<Path> items = Files.newDirectoryStream(ingest)) {
      for (Path p : items) {
        String name = p.getFileName().toString();
        Path partial = name.endsWith(SIDECAR)
            ? p.resolveSibling(name.substring(0, name.length() - SIDECAR.length())) : p;
        if (!RESUMABLE.matcher(partial.getFileName().toString()).matches()
            || claimed.contains(partial) || isFreshPartial(partial, before)) {
          continue;
        }
        if (Files.deleteIfExists(p) && !name.endsWith(SIDECAR)) {
          removed++;
        }
      }
    }
    if (removed > 0) {
      log.info("removed {} partial downloads nobody continued", removed);
    }
    return removed;
  }

  /** A resumable partial whose sidecar exists and was written at or after {@code oldest}. */
  private static boolean isFreshPartial(Path p, Instant oldest) throws IOException {
    if (!RESUMABLE.matcher(p.getFileName().toString()).matches()
        || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    Path sidecar = PartialDownload.sidecarOf(p);
    return Files.isRegularFile(sidecar, LinkOption.NOFOLLOW_LINKS)
        && !Files.getLastModifiedTime(sidecar, LinkOption.NOFOLLOW_LINKS).toInstant()
            .isBefore(oldest);
  }

  private static boolean isSidecarOf(Path p, Instant oldest) throws IOException {
    String name = p.getFileName().toString();
    return name.endsWith(SIDECAR) && isFreshPartial(
        p.resolveSibling(name.substring(0, name.length() - SIDECAR.length())), oldest);
  }
}
