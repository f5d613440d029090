package org.modelpack.csi.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.oci.Digest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether something at an entry's path was written by this driver. An entry's name says what
 * it should hold, not who put it there: one the driver wrote is owned by its user, read-only,
 * and (for a blob) hashes to its name. Anything else is moved to {@code quarantine/} and never
 * served.
 */
final class EntryTrust {
  private static final Logger log = LoggerFactory.getLogger(EntryTrust.class);
  private static final int PERMISSION_BITS = 07777;

  private EntryTrust() {}

  /** What {@link #blobProblem(Map)} needs, for one stat that may read more. */
  static final String BLOB_ATTRIBUTES = "isRegularFile,uid,mode";

  /** Why the blob at {@code path} is not one the driver wrote; empty when it may be. */
  static Optional<String> blobProblem(Path path) throws IOException {
    return blobProblem(Files.readAttributes(path, "unix:" + BLOB_ATTRIBUTES,
        LinkOption.NOFOLLOW_LINKS));
  }

  /** As {@link #blobProblem(Path)}, from attributes already read (not following links). */
  static Optional<String> blobProblem(Map<String, Object> a) {
    if (!Boolean.TRUE.equals(a.get("isRegularFile"))) {
      return Optional.of("not a regular file");
    }
    return ownerAndMode(a, ReadOnly.FILE_MODE, ReadOnly.EXEC_MODE);
  }

  /** Why the tree at {@code tree} (with its metadata file) is not one the driver wrote. */
  static Optional<String> treeProblem(Path tree, Path meta) throws IOException {
    if (!Files.isDirectory(tree, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of("not a directory");
    }
    Optional<String> dir = ownerAndMode(Dirs.ownerAndMode(tree), ReadOnly.DIR_MODE,
        ReadOnly.DIR_MODE);
    if (dir.isPresent()) {
      return dir;
    }
    if (!Files.isRegularFile(meta, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of("its metadata " + meta.getFileName() + " is missing");
    }
    int metaOwner = (Integer) Dirs.ownerAndMode(meta).get("uid");
    return metaOwner == Dirs.processUid() ? Optional.empty()
        : Optional.of("its metadata belongs to uid " + metaOwner);
  }

  private static Optional<String> ownerAndMode(Map<String, Object> a, int mode, int altMode) {
    int uid = (Integer) a.get("uid");
    int perms = (Integer) a.get("mode") & PERMISSION_BITS;
    if (uid != Dirs.processUid()) {
      return Optional.of("owned by uid " + uid + ", not the driver's " + Dirs.processUid());
    }
    if (perms != mode && perms != altMode) {
      return Optional.of(String.format("mode %04o, not the store's read-only %04o", perms, mode));
    }
    return Optional.empty();
  }

  /** True when the file at {@code path} hashes to {@code digest} (reads it whole). */
  static boolean hashesTo(Path path, String digest) throws IOException {
    Digest d = Digest.parse(digest);
    MessageDigest hasher = d.newHasher();
    try (InputStream in = new DigestInputStream(Files.newInputStream(path,
        LinkOption.NOFOLLOW_LINKS), hasher)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return d.matches(hasher.digest());
  }

  /** Moves {@code path} into {@code quarantine/}, out of every lookup. */
  static void quarantine(StoreLayout layout, Path path, String why) throws IOException {
    Dirs.create(layout.quarantine(), Dirs.PRIVATE);
    Path aside = layout.quarantine().resolve(path.getParent().getFileName() + "-"
        + path.getFileName() + "-" + System.nanoTime());
    Files.move(path, aside);
    log.warn("store entry {} was not written by the driver ({}); moved it to {}", path, why,
        aside);
  }
}
