package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.DigestingBlobFile;
import org.modelpack.csi.oci.DigestingBlobFile.Prefix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One download's file in {@code ingest/}, claimed from {@link PartialFiles}, and the sidecar
 * ({@code <partial>.at}: {@code "<bytes> <alg>:<hex> in-order|parts-ahead"}) naming the prefix
 * of it that was written and hashed, the digest of that prefix, and whether anything was written
 * ahead of it (decision 1250). After a crash the prefix is hashed again and must match; the bytes
 * after it are kept only if the file was written in order (one stream), while the parts a
 * parallel download wrote ahead are cut off. The sidecar is rewritten (atomically, without
 * fsync: a kill keeps the page cache, and a power loss that tore the data is caught by the
 * prefix digest or, past the prefix, by the blob's digest) every {@link #RECORD_EVERY} bytes of
 * progress and when the first part is written ahead.
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
    Prefix want = recorded.get().prefix();
    // Written in order: every byte after the recorded prefix came from this blob too (a kill
    // keeps the page cache); the final digest checks them. Else only the prefix is kept.
    long kept = recorded.get().inOrder() ? size : want.size();
    DigestingBlobFile file = DigestingBlobFile.openAt(path, expected, want.size(), kept);
    if (!want.equals(file.hashedPrefix())) {
      log.warn("not resuming {}: the {} kept bytes do not hash to what was recorded; "
          + "starting over", expected, want.size());
      forget();
      file.restart();
      return file;
    }
    long at = file.hashWritten();
    if (at > 0) {
      log.info("resuming {} at {} of {}", expected, ByteSize.format(at), ByteSize.format(size));
    }
    return file;
  }

  /** The writer a source fills: {@code file}, recording its hashed prefix as it grows. */
  BlobWriter writer(DigestingBlobFile file) {
    return resumable ? new FrontierRecorder(file, this) : file;
  }

  /**
   * What the sidecar says: the hashed prefix, and whether the file was written in order (no
   * part ahead of that prefix, so the bytes after it are this blob's too).
   */
  record Record(Prefix prefix, boolean inOrder) {}

  /** Records {@code prefix} as the part of the file a later download may keep. */
  void record(Prefix prefix, boolean inOrder) throws IOException {
    sidecarMayExist = true; // before it is written: a forget meanwhile must look
    FileTrees.writeAtomically(sidecarOf(path), (prefix.size() + " " + prefix.digest() + " "
        + (inOrder ? IN_ORDER : AHEAD) + "\n").getBytes(StandardCharsets.US_ASCII), false);
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
      Prefix p = file.hashedPrefix();
      if (p != null && p.size() >= blobSize) {
        // Every byte arrived and the blob was refused (its digest): nothing to go on from.
        forget();
        keep = false;
        return;
      }
      // The writer hashes a write before it lands: if the failure was a write that did not
      // (the file is shorter than the prefix), the last periodic record stays the one to trust.
      if (p != null && p.size() > 0 && Files.size(path) >= p.size()) {
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
      if (parts.length == 3 && bytes >= 0 && bytes <= size
          && digest.algorithm().equals(expected.algorithm())
          && (parts[2].equals(IN_ORDER) || parts[2].equals(AHEAD))) {
        return Optional.of(new Record(new Prefix(bytes, digest), parts[2].equals(IN_ORDER)));
      }
    } catch (RuntimeException e) {
      // torn or foreign: below
    }
    log.warn("not resuming {}: its sidecar '{}' is not a prefix record", expected,
        text.length() > 80 ? text.substring(0, 80) : text);
    return Optional.empty();
  }
}
