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
 * ({@code <partial>.at}: {@code "<bytes> <alg>:<hex>"}) naming the prefix of it that was written
 * and hashed, and the digest of that prefix (decision 1250). Only that prefix is trusted after a
 * crash: a parallel download also wrote parts ahead of it, which are cut off. The sidecar is
 * rewritten (atomically, without fsync: a kill keeps the page cache, and a power loss that tore
 * the data is caught by the prefix digest) every {@link #RECORD_EVERY} bytes of progress.
 */
final class PartialDownload implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PartialDownload.class);
  /** Progress between two sidecar writes: what a kill may cost beyond the parts ahead. */
  static final long RECORD_EVERY = 8L << 20;

  private final Path path;
  private final boolean resumable;
  private final Consumer<Path> giveBack;
  private boolean keep;

  PartialDownload(Path path, boolean resumable, Consumer<Path> giveBack) {
    this.path = path;
    this.resumable = resumable;
    this.giveBack = giveBack;
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
    Optional<Prefix> recorded = resumable ? readSidecar(expected, size) : Optional.empty();
    if (recorded.isEmpty() || recorded.get().size() == 0
        || !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      forget();
      return DigestingBlobFile.create(path, expected);
    }
    Prefix want = recorded.get();
    DigestingBlobFile file = DigestingBlobFile.openAt(path, expected, want.size());
    Prefix got = file.hashedPrefix();
    if (!want.equals(got)) {
      log.warn("not resuming {}: the {} kept bytes do not hash to what was recorded; "
          + "starting over", expected, want.size());
      forget();
      file.restart();
      return file;
    }
    log.info("resuming {} at {} of {}", expected, ByteSize.format(want.size()),
        ByteSize.format(size));
    return file;
  }

  /** The writer a source fills: {@code file}, recording its hashed prefix as it grows. */
  BlobWriter writer(DigestingBlobFile file) {
    return resumable ? new FrontierRecorder(file, this) : file;
  }

  /** Records {@code prefix} as the part of the file a later download may keep. */
  void record(Prefix prefix) throws IOException {
    FileTrees.writeAtomically(sidecarOf(path),
        (prefix.size() + " " + prefix.digest() + "\n").getBytes(StandardCharsets.US_ASCII),
        false);
  }

  /** No prefix of the file is to be trusted any more (it starts over, or is complete). */
  void forget() throws IOException {
    Files.deleteIfExists(sidecarOf(path));
  }

  /**
   * The download failed: keep the file and record how far it got, so that the next try (or the
   * next process) goes on from there. Not for a download nobody wants any more.
   */
  void keepAfterFailure(DigestingBlobFile file) {
    if (!resumable) {
      return;
    }
    try {
      file.hashWritten();
      Prefix p = file.hashedPrefix();
      if (p != null && p.size() > 0) {
        record(p);
        keep = true;
      }
    } catch (IOException | RuntimeException e) {
      log.debug("not keeping {}: {}", path, e.toString());
    }
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
  private Optional<Prefix> readSidecar(Digest expected, long size) throws IOException {
    String text;
    try {
      text = Files.readString(sidecarOf(path), StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      log.warn("not resuming {}: its sidecar is unreadable ({})", expected, e.toString());
      return Optional.empty();
    }
    try {
      String[] parts = text.split(" ");
      long bytes = Long.parseLong(parts[0]);
      Digest digest = Digest.parse(parts[1]);
      if (parts.length == 2 && bytes >= 0 && bytes <= size
          && digest.algorithm().equals(expected.algorithm())) {
        return Optional.of(new Prefix(bytes, digest));
      }
    } catch (RuntimeException e) {
      // torn or foreign: below
    }
    log.warn("not resuming {}: its sidecar '{}' is not a prefix record", expected,
        text.length() > 80 ? text.substring(0, 80) : text);
    return Optional.empty();
  }
}
