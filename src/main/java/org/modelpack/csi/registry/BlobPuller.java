package org.modelpack.csi.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.ByteRun;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.DigestingBlobFile;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GET of a blob into a file, hashed while it downloads and verified by size and digest: as one
 * resumable stream ({@link BlobRange}), or above the parallel threshold as chunks over several
 * connections ({@link RangedBlobDownload}).
 */
final class BlobPuller {
  private static final Logger LOG = LoggerFactory.getLogger(BlobPuller.class);
  /** Complete downloads of a blob whose digest does not match before that is reported. */
  private static final int VERIFY_ROUNDS = 2;

  private final RegistryAccess access;

  BlobPuller(RegistryAccess access) {
    this.access = access;
  }

  /**
   * Downloads {@code blob} into the file {@code destination}. Unless the file verified, it is
   * deleted: a half-written or wrong file must never look like content.
   */
  void download(Reference ref, Descriptor blob, Path destination) throws IOException {
    boolean ok = false;
    try (DigestingBlobFile file = DigestingBlobFile.create(destination,
        RegistryErrors.parseDigest(blob.digest()))) {
      download(ref, blob, file);
      ok = true;
    } finally {
      if (!ok) {
        Files.deleteIfExists(destination);
      }
    }
  }

  /**
   * Downloads {@code blob} into {@code out}, which hashes what it is given; a digest mismatch is
   * downloaded once more from the start (a registry or proxy may have served a bad copy once)
   * before it is reported.
   */
  void download(Reference ref, Descriptor blob, BlobWriter out) throws IOException {
    Digest digest = RegistryErrors.parseDigest(blob.digest());
    String subject = "blob " + digest + " in " + ref.name();
    if (blob.size() < 0) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, subject + " has negative size");
    }
    if (blob.size() > Descriptor.MAX_SIZE) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, subject + " declares " + blob.size()
          + " bytes, more than the " + Descriptor.MAX_SIZE + " a blob may have");
    }
    BlobDownload download = new BlobDownload(access.transport(), ref,
        access.url(ref, "/blobs/" + digest), digest, blob.size(), out, subject);
    // The writer may hold a hashed prefix (a download resumed from disk): the first round goes
    // on from there; a round after a wrong digest starts from zero.
    long kept = out.hashWritten();
    for (int round = 1; ; round++) {
      Digest got = round == 1 ? once(download, kept, out.writtenAhead())
          : once(download, 0, List.of());
      if (digest.equals(got)) {
        return;
      }
      String message = subject + " failed verification: expected digest " + digest
          + ", got " + got;
      if (round >= VERIFY_ROUNDS) {
        throw new RegistryException(Kind.INVALID_CONTENT, message + " (" + round
            + " complete downloads)");
      }
      LOG.warn("{}; downloading it once more from the start", message);
    }
  }

  /**
   * Downloads the blob into the writer from byte {@code from} (what it holds before that is
   * kept; 0 with nothing {@code held} empties it), skipping the runs {@code held} it holds after
   * that when the download is ranged, syncs it and returns its digest.
   */
  private Digest once(BlobDownload download, long from, List<ByteRun> held)
      throws IOException {
    RegistrySettings settings = access.settings();
    long size = download.size();
    if (from > 0 && from >= size) {
      return download.writer().finish(); // all there: the digest decides
    }
    long threshold = settings.parallelThreshold();
    int connections = (int) Math.min(settings.parallelConnections(), Math.max(1, size));
    if (threshold > 0 && size > threshold && connections > 1) {
      Digest digest = new RangedBlobDownload(download, access.executor(), connections, from,
          held, access.stats()).fetch();
      if (digest != null) {
        return digest;
      }
      from = 0; // ranges refused: one stream, from the start
    }
    return BlobRange.fetchWhole(download, download.writer(), null, from);
  }
}
