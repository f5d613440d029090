package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.ByteRun;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.DigestingBlobFile;
import org.modelpack.csi.oci.DigestingBlobFile.Prefix;
import org.modelpack.csi.oci.DigestingBlobFile.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One download's file in {@code ingest/}, claimed from {@link PartialFiles}, and the sidecar
 * ({@code <partial>.at}: {@code "<bytes> <alg>:<hex> in-order"} or {@code "<bytes> <alg>:<hex>
 * parts-ahead [<start>-<end>,...]"}) naming the prefix of it that was written and hashed, the
 * digest of that prefix, and whether anything was written ahead of it: if so, the runs written
 * ahead so far (decisions 1250, 1251). After a crash the prefix is hashed again and must match;
 * the bytes after it are kept if the file was written in order (one stream), else the recorded
 * runs are kept and the rest is cut off. The sidecar is rewritten (atomically, without fsync: a
 * kill keeps the page cache, and a power loss that tore the data is caught by the prefix digest
 * or, past the prefix, by the blob's digest) every {@link #RECORD_EVERY} bytes written and when
 * the first part is written ahead.
 */
final class PartialDownload implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PartialDownload.class);
  /** Progress between two sidecar writes: what a kill may cost beyond the parts ahead. */
  static final long RECORD_EVERY = 8L << 20;
  private static final String IN_ORDER = "in-order";
  private static final String AHEAD = "parts-ahead";

  private final Path path;
  private final boolean resumable;
  private final Consumer<Path> giveBack;
  private boolean keep;
  /**
   * Whether the sidecar may be on disk: false only once {@link #open} found none and nothing
   * recorded one since, so a download that never records (a blob below
   * {@link #RECORD_EVERY}, completed in one go) costs no lookups to remove a sidecar it never
   * had.
   */
  private volatile boolean sidecarMayExist = true;
  /** The blob's declared size, once {@link #open} was called. */
  private long blobSize = Long.MAX_VALUE;

  PartialDownload(Path path, boolean resumable, Consumer<Path> giveBack) {
    this.path = path;
    this.resumable = resumable;
    this.giveBack = giveBack;
    // A one-off name is never resumed, so it never had a sidecar.
    this.sidecarMayExist = resumable;
  }

  Path path() {
    return path;
  }

  static Path sidecarOf(Path partial) {
    return partial.resolveSibling(partial.getFileName() + PartialFiles.SIDECAR);
  }

  /**
   * The file to download {@code expected} ({@code size} bytes) into: the kept prefix of an
   * earlier download, re-hashed from disk and checked against its sidecar, or an empty file when
   * there is none or it does not check out. Its {@link DigestingBlobFile#size()} is where the
   * download goes on.
   */
  DigestingBlobFile open(Digest expected, long size) throws IOException {
    blobSize = size;
    Optional<Record> recorded = resumable ? readSidecar(expected, size) : Optional.empty();
    if (recorded.isEmpty() || !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      forget();
      return DigestingBlobFile.create(path, expected);
    }
    Record r = recorded.get();
    Prefix want = r.prefix();
    // Written in order: every byte after the recorded prefix came from this blob too (a kill
    // keeps the page cache); the final digest checks them. Else the recorded runs are kept.
    DigestingBlobFile file = r.inOrder()
        ? DigestingBlobFile.openAt(path, expected, want.size(), size)
        : DigestingBlobFile.openAt(path, expected, want.size(), r.ahead());
    if (!want.equals(file.hashedPrefix())) {
      log.warn("not resuming {}: the {} kept bytes do not hash to what was recorded; "
          + "starting over", expected, want.size());
      forget();
      file.restart();
      return file;
    }
    long at = file.hashWritten();
    long ahead = file.writtenAhead().stream().mapToLong(ByteRun::length).sum();
    if (at > 0 || ahead > 0) {
      log.info("resuming {} at {} of {}{}", expected, ByteSize.format(at), ByteSize.format(size),
          ahead > 0 ? ", " + ByteSize.format(ahead) + " more kept ahead" : "");
    }
    return file;
  }

  /** The writer a source fills: {@code file}, recording its hashed prefix as it grows. */
  BlobWriter writer(DigestingBlobFile file) {
    return resumable ? new FrontierRecorder(file, this) : file;
  }

  /**
   * What the sidecar says: the hashed prefix, and whether the file was written in order (no
   * part ahead of that prefix, so the bytes after it are this blob's too); if not, the runs
   * written ahead of the prefix that are on disk whole.
   */
  record Record(Prefix prefix, boolean inOrder, List<ByteRun> ahead) {}

  /**
   * Records {@code progress} as the part of the file a later download may keep: the prefix, and
   * unless {@code inOrder} (then all bytes after it are kept) the runs ahead of it.
   */
  void record(Progress progress, boolean inOrder) throws IOException {
    sidecarMayExist = true; // before it is written: a forget meanwhile must look
    Prefix prefix = progress.prefix();
    StringBuilder text = new StringBuilder().append(prefix.size()).append(' ')
        .append(prefix.digest()).append(' ').append(inOrder ? IN_ORDER : AHEAD);
    if (!inOrder && !progress.ahead().isEmpty()) {
      text.append(' ');
      for (ByteRun run : progress.ahead()) {
        text.append(run).append(',');
      }
      text.setLength(text.length() - 1);
    }
    FileTrees.writeAtomically(sidecarOf(path),
        text.append('\n').toString().getBytes(StandardCharsets.US_ASCII), false);
  }

  /** No prefix of the file is to be trusted any more (it starts over, or is complete). */
  void forget() throws IOException {
    if (sidecarMayExist) {
      Files.deleteIfExists(sidecarOf(path));
    }
  }

  /**
   * The download failed: keep the file and record how far it got, so that the next try (or the
   * next process) goes on from there. Not for a download nobody wants any more.
   */
  void keepAfterFailure(DigestingBlobFile file) {
    if (!resumable) {
      return;
    }
    // A stopping driver interrupts its downloads, and NIO closes any channel used by an
    // interrupted thread: the record is written with the flag cleared, then it is set again.
    boolean interrupted = Thread.interrupted();
    try {
      Progress p = file.progress();
      if (p != null && p.prefix().size() >= blobSize) {
        // Every byte arrived and the blob was refused (its digest): nothing to go on from.
        forget();
        keep = false;
        return;
      }
      // None while a write that failed tore the hashed prefix: the last periodic record stays
      // the one to trust.
      if (p != null && (p.prefix().size() > 0 || !p.ahead().isEmpty())) {
        record(p, false);
      }
    } catch (IOException | RuntimeException e) {
      log.info("{} keeps its last record only: {}", path, e.toString());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    keep = Files.exists(sidecarOf(path));
  }

  /** Removes the file and its sidecar unless it is kept, and gives the name back. */
  @Override
  public void close() throws IOException {
    try {
      if (!keep) {
        forget();
        Files.deleteIfExists(path);
      }
    } finally {
      giveBack.accept(path);
    }
  }

  /** The recorded prefix, if the sidecar is whole and plausible for this blob. */
  private Optional<Record> readSidecar(Digest expected, long size) throws IOException {
    String text;
    try {
      text = Files.readString(sidecarOf(path), StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      sidecarMayExist = false; // no writer yet: nobody records meanwhile
      return Optional.empty();
    } catch (IOException e) {
      log.warn("not resuming {}: its sidecar is unreadable ({})", expected, e.toString());
      return Optional.empty();
    }
    try {
      String[] parts = text.split(" ");
      long bytes = Long.parseLong(parts[0]);
      Digest digest = Digest.parse(parts[1]);
      boolean inOrder = parts[2].equals(IN_ORDER);
      List<ByteRun> ahead = parts.length == 4 && !inOrder ? runs(parts[3], bytes, size)
          : List.of();
      if ((parts.length == 3 || (parts.length == 4 && !ahead.isEmpty()))
          && bytes >= 0 && bytes <= size
          && digest.algorithm().equals(expected.algorithm())
          && (inOrder || parts[2].equals(AHEAD))) {
        return Optional.of(new Record(new Prefix(bytes, digest), inOrder, ahead));
      }
    } catch (RuntimeException e) {
      // torn or foreign: below
    }
    log.warn("not resuming {}: its sidecar '{}' is not a prefix record", expected,
        text.length() > 80 ? text.substring(0, 80) : text);
    return Optional.empty();
  }

  /** Runs {@code "s-e,s-e"} in order after {@code prefix} and within {@code size}, else none. */
  private static List<ByteRun> runs(String text, long prefix, long size) {
    List<ByteRun> runs = new ArrayList<>();
    long last = prefix;
    for (String one : text.split(",")) {
      ByteRun run = ByteRun.parse(one);
      if (run.start() < last || run.end() > size || run.length() == 0) {
        return List.of();
      }
      runs.add(run);
      last = run.end();
    }
    return List.copyOf(runs);
  }
}
