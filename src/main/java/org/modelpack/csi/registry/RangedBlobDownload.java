package org.modelpack.csi.registry;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.registry.BlobRange.PartAborted;
import org.modelpack.csi.registry.BlobRange.RangeIgnored;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One try at a blob as consecutive chunks over several connections, each chunk written at its
 * offset and retried/resumed on its own, while the calling thread has the writer hash the
 * contiguous written prefix as it grows (docs/decisions/0304). Single use: a new try is a new
 * object.
 */
final class RangedBlobDownload {
  private static final Logger LOG = LoggerFactory.getLogger(RangedBlobDownload.class);
  private static final long MIN_CHUNK = 1L << 20;
  private static final long MAX_CHUNK = 64L << 20;
  /** Chunks of one blob at most (each is an object with its own retrier); bigger chunks then. */
  static final int MAX_CHUNKS = 1 << 16;
  /** Safety net only: writers notify the in-order hasher after every write. */
  private static final long PROGRESS_POLL_MS = 200;

  private final BlobDownload blob;
  private final ExecutorService executor;
  private final int connections;
  /** Where the download begins: the writer holds the bytes before it (0: it is emptied). */
  private final long from;
  /** Set when a part failed or the hasher gave up: the other parts stop. */
  private final AtomicBoolean abort = new AtomicBoolean();
  /** Notified after every write, so that the in-order hasher waits no longer than it must. */
  private final Object progress = new Object();
  /** Writes so far: the hasher waits only if none came since it last looked. */
  private final AtomicLong writes = new AtomicLong();

  /** A download of bytes {@code [from, size)}, the writer holding those before (kept on disk). */
  RangedBlobDownload(BlobDownload blob, ExecutorService executor, int connections, long from) {
    this.blob = blob;
    this.executor = executor;
    this.connections = connections;
    this.from = from;
  }

  /**
   * Downloads the blob into the emptied writer, syncs it and returns the digest of what was
   * written; null, having written nothing that matters, when the registry does not honour
   * {@code Range}.
   */
  Digest fetch() throws IOException {
    long size = blob.size();
    long chunk = chunkSize(size - from, connections);
    int count = chunkCount(size - from, chunk);
    BlobWriter out = blob.writer();
    if (from == 0) {
      out.restart();
    }
    BlobRange[] chunks = new BlobRange[count];
    for (int i = 0; i < count; i++) {
      chunks[i] = BlobRange.chunk(blob, out, from + i * chunk,
          Math.min(size, from + (i + 1) * chunk), abort::get, this::wrote);
    }
    if (from > 0) {
      chunks[0].continueAt(from);
    }
    // The first chunk probes: only a 206 proves the registry serves ranges.
    RegistryResponse probe = chunks[0].request();
    if (probe.statusCode() == 200) {
      LOG.info("{}: the registry ignores Range; downloading it as one stream", blob.subject());
      return BlobRange.fetchWhole(blob, out, probe);
    }
    if (probe.statusCode() == 416 && from > 0) {
      probe.close();
      LOG.info("{}: the registry refused Range at {} (416); starting over", blob.subject(),
          from);
      return null;
    }
    if (probe.statusCode() != 206) {
      // 404, 401, 5xx after retries...: report it from here, before more connections ask.
      chunks[0].fetch(probe);
      throw new RegistryException(Kind.INVALID_CONTENT, blob.subject() + ": HTTP "
          + probe.statusCode() + " to a range request");
    }
    List<Future<Void>> parts = startParts(chunks, probe);
    boolean hashed = hashInOrder(out);
    IOException failure = awaitParts(parts);
    if (failure instanceof RangeIgnored) {
      LOG.info("{}: {}; downloading it as one stream", blob.subject(), failure.getMessage());
      return null;
    }
    if (failure != null) {
      throw failure;
    }
    if (!hashed) {
      throw new RegistryException(Kind.UNAVAILABLE, blob.subject()
          + ": download stopped early");
    }
    return out.finish();
  }

  private void wrote() {
    writes.incrementAndGet();
    synchronized (progress) {
      progress.notifyAll();
    }
  }

  /**
   * Starts one part per connection; each takes the next chunk in order until none is left, the
   * first beginning with the answer to the probe.
   */
  private List<Future<Void>> startParts(BlobRange[] chunks, RegistryResponse probe) {
    AtomicInteger next = new AtomicInteger(1);
    List<Future<Void>> parts = new ArrayList<>();
    for (int w = 0; w < Math.min(connections, chunks.length); w++) {
      RegistryResponse first = w == 0 ? probe : null;
      parts.add(executor.submit(() -> {
        try {
          if (first != null) {
            chunks[0].fetch(first);
          }
          for (int i; (i = next.getAndIncrement()) < chunks.length && !abort.get(); ) {
            chunks[i].fetch(null);
          }
          return null;
        } catch (IOException | RuntimeException e) {
          abort.set(true);
          throw e;
        } finally {
          wrote(); // wake the hasher to notice the end or the failure
        }
      }));
    }
    return parts;
  }

  /**
   * Has the writer hash the contiguous written prefix as the chunks fill it in, until the whole
   * blob is hashed (true) or the download was aborted first (false).
   */
  private boolean hashInOrder(BlobWriter out) throws IOException {
    long size = blob.size();
    while (true) {
      long seen = writes.get();
      if (out.hashWritten() >= size) {
        return true;
      }
      synchronized (progress) {
        if (abort.get()) {
          return false;
        }
        if (writes.get() == seen) {
          try {
            progress.wait(PROGRESS_POLL_MS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort.set(true);
            return false;
          }
        }
      }
    }
  }

  /**
   * Waits for every part, also after one failed (the others are told to stop, and a part
   * must not write into the file after this method returned). Returns the first failure.
   */
  private IOException awaitParts(List<Future<Void>> parts) throws IOException {
    IOException failure = null;
    boolean interrupted = false;
    for (Future<Void> f : parts) {
      while (true) {
        try {
          f.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
          abort.set(true);
        } catch (ExecutionException e) {
          abort.set(true);
          Throwable c = e.getCause();
          if (failure == null || failure instanceof PartAborted) {
            failure = c instanceof IOException io ? io
                : new IOException(blob.subject() + ": " + c, c);
          }
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
      throw new RegistryException(Kind.UNAVAILABLE, blob.subject()
          + ": download was interrupted");
    }
    return failure;
  }

  /**
   * Chunk size of a parallel download: about eight chunks per connection, so that the in-order
   * hasher trails the download closely and a slow connection only holds back its own chunk;
   * between 1 MiB and 64 MiB (docs/decisions/0304), and larger when that would make more than
   * {@link #MAX_CHUNKS} chunks (a blob over 4 TiB), so the count always fits an array.
   */
  static long chunkSize(long size, int connections) {
    long target = ceilDiv(size, connections * 8L);
    long chunk = Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, target));
    return Math.max(chunk, ceilDiv(size, MAX_CHUNKS));
  }

  /** Chunks of {@code chunk} bytes that cover {@code size} bytes; at most {@link #MAX_CHUNKS}. */
  static int chunkCount(long size, long chunk) {
    return Math.toIntExact(ceilDiv(size, chunk));
  }

  /** {@code ⌈a / b⌉} for {@code a ≥ 0, b > 0}, without the overflow of {@code (a + b - 1) / b}. */
  private static long ceilDiv(long a, long b) {
    return a / b + (a % b == 0 ? 0 : 1);
  }
}
