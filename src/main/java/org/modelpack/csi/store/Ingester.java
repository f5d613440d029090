package org.modelpack.csi.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.unpack.FreshTreeExtractor;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.DigestingBlobFile;

/**
 * Turns a fetched blob into a store entry, the containerd way: write under {@code ingest/}
 * through a writer that hashes in the same pass, verify size and digest here, make read-only,
 * link or rename into place. Nothing is fsynced here: the entry is committed as unsynced
 * ({@link UnsyncedEntries}) and made durable, with every other entry of the pull, by one
 * syncfs before a volume's record names it (docs/decisions/1220). A kill at any point leaves
 * either nothing or a complete entry (plus ingest leftovers that the next start removes, but
 * for the partial download the next try goes on from: {@link PartialFiles}); a power cut may
 * tear an unsynced entry, which the next start finds through the marker.
 */
final class Ingester {
  private static final ObjectMapper JSON = Json.mapper();
  private static final AtomicLong SEQ = new AtomicLong();

  private final StoreLayout layout;
  private final ExpansionBudgets budgets;
  private final UnsyncedEntries unsynced;
  private final PartialFiles partials;
  /** The process is stopping: a cancelled download is kept for the next one. */
  private volatile boolean stopping;

  Ingester(StoreLayout layout, ExpansionBudgets budgets, UnsyncedEntries unsynced) {
    this.layout = layout;
    this.budgets = budgets;
    this.unsynced = unsynced;
    this.partials = new PartialFiles(layout.ingest());
  }

  /**
   * Fetches, verifies and places one entry; {@code partialFile} learns where the download is
   * written, for progress. A download that fails keeps its file for the next try to go on from
   * (decision 1250), unless {@code abandoned} says nobody wants it any more.
   */
  StoreEntry ingest(LayerRequest req, BlobFetcher fetcher,
      java.util.function.Consumer<Path> partialFile, BooleanSupplier abandoned)
      throws IOException {
    LayerKey key = req.key();
    Path target = layout.path(key);
    String unique = key.digest().replace(':', '-') + "-" + ProcessHandle.current().pid() + "-"
        + SEQ.incrementAndGet();
    Dirs.create(layout.ingest(), Dirs.PRIVATE);
    Dirs.create(target.getParent(), Dirs.PRIVATE);
    try (PartialDownload download = partials.claim(key.digest())) {
      Path partial = download.path();
      partialFile.accept(partial);
      fetchAndVerify(req, fetcher, download, abandoned);
      if (key.kind() == EntryKind.BLOB) {
        long size = Files.size(partial);
        if (req.mtime() != null) {
          Files.setLastModifiedTime(partial, FileTime.from(req.mtime()));
        }
        ReadOnly.file(partial, req.executable());
        commit(key, () -> placeTrusted(partial, target, () -> untrustedBlob(target, key, size)));
        return new StoreEntry(key, target, size);
      }
      Path tree = layout.ingest().resolve(unique + ".tree");
      try {
        Dirs.create(tree, Dirs.SHARED);
        FreshTreeExtractor.extract(partial, req.format(), tree, key.digest(),
            budgets.forLayer(req, Files.size(partial)));
        long size = ReadOnly.tree(tree);
        commit(key, () -> {
          FileTrees.writeAtomically(layout.treeMeta(key),
              JSON.writeValueAsBytes(Map.of("digest", key.digest(), "size", size)), false);
          placeTrusted(tree, target, () -> EntryTrust.treeProblem(target, layout.treeMeta(key)));
        });
        return new StoreEntry(key, target, size);
      } finally {
        ReadOnly.makeDeletable(tree);
        FileTrees.delete(tree);
      }
    }
  }

  /** From now on a cancelled download keeps its partial: the next process goes on with it. */
  void stopping() {
    stopping = true;
  }

  /** Removes every partial download not being written: the disk is full. */
  int removeIdlePartials() throws IOException {
    return partials.removeAllIdle();
  }

  /**
   * Has {@code fetcher} fill the partial, going on from the prefix an earlier download kept,
   * and checks the result. A failed fetch keeps what it got; a verified file is no longer a
   * partial to resume (what follows is the commit).
   */
  private void fetchAndVerify(LayerRequest req, BlobFetcher fetcher,
      PartialDownload partial, BooleanSupplier abandoned) throws IOException {
    try (DigestingBlobFile file = partial.open(Digest.parse(req.digest()), req.size())
        .unsynced()) {
      try {
        fetcher.fetch(partial.writer(file));
      } catch (IOException | RuntimeException e) {
        if (stopping || !abandoned.getAsBoolean()) {
          partial.keepAfterFailure(file);
        }
        throw e;
      }
      partial.forget();
      verify(file, req);
    }
  }

  /**
   * The commit check, whatever the fetcher claims: a download is kept only if the bytes it was
   * given, as hashed by the store's own writer, have the declared size and digest.
   */
  private static void verify(DigestingBlobFile download, LayerRequest req) throws IOException {
    // A download that completed is kept even if its flight was cancelled meanwhile (the thread
    // interrupted): the check must not fail because a channel closes on the interrupt.
    boolean interrupted = Thread.interrupted();
    try {
      Digest got = download.finish();
      long size = Files.size(download.path());
      if (size != req.size() || download.size() != size || !got.toString().equals(req.digest())) {
        throw new IOException("download of " + req.digest() + " failed verification in the "
            + "store: " + size + " bytes with digest " + got + ", expected " + req.size()
            + " bytes");
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private interface Step {
    void run() throws IOException;
  }

  /** A step that makes an entry appear in the store, announced as unsynced around it. */
  private void commit(LayerKey key, Step step) throws IOException {
    unsynced.beforeCommit();
    try {
      step.run();
    } finally {
      unsynced.committed(key);
    }
  }

  private interface ProblemCheck {
    Optional<String> find() throws IOException;
  }

  /**
   * Puts a verified download at its entry's path. An entry already there (another ingest of
   * this process won the race, or someone planted it) stays only if {@code problem} finds
   * nothing wrong with it; otherwise it is quarantined and the download takes its place.
   */
  private void placeTrusted(Path from, Path to, ProblemCheck problem) throws IOException {
    if (moveIntoPlace(from, to)) {
      return;
    }
    Optional<String> wrong = problem.find();
    if (wrong.isPresent()) {
      EntryTrust.quarantine(layout, to, wrong.get());
      if (!moveIntoPlace(from, to)) {
        throw new IOException("store entry " + to + " keeps being replaced");
      }
    }
  }

  /** Why a blob found at an entry's path is not the driver's download of it, if it is not. */
  private static Optional<String> untrustedBlob(Path target, LayerKey key, long size)
      throws IOException {
    Optional<String> problem = EntryTrust.blobProblem(target);
    if (problem.isPresent()) {
      return problem;
    }
    return Files.size(target) == size && EntryTrust.hashesTo(target, key.digest())
        ? Optional.empty() : Optional.of("its content is not " + key.digest());
  }

  /**
   * Puts {@code from} at {@code to} without replacing; false when another ingest of the same key
   * won the race. rename(2) silently replaces an existing file, which would give the store a new
   * inode while volumes keep links to the old one, so a file is hard-linked into place instead
   * (link(2) fails with EEXIST); the caller removes {@code from}. A directory is renamed: that
   * fails on a non-empty target.
   */
  private static boolean moveIntoPlace(Path from, Path to) throws IOException {
    try {
      if (Files.isDirectory(from, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
      } else {
        Files.createLink(to, from);
      }
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("ingest directory and store must be on one filesystem", e);
    } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
      return false;
    } catch (java.nio.file.FileSystemException e) {
      if (Files.exists(to)) {
        return false;
      }
      throw e;
    }
    return true;
  }
}
