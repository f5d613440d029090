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
import org.modelpack.csi.oci.ByteRun;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.registry.BlobRange.PartAborted;
import org.modelpack.csi.registry.BlobRange.RangeIgnored;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One try at a blob as consecutive chunks over one or more connections, each chunk written at
 * its offset and retried/resumed on its own, while the calling thread has the writer hash the
 * contiguous written prefix as it grows (docs/decisions/0304) and adds streams, up to the
 * maximum, only while they add throughput ({@link StreamGrowth}, decision 1211). Single use: a
 * new try is a new object.
 */
final class RangedBlobDownload {
  private static final Logger LOG = LoggerFactory.getLogger(RangedBlobDownload.class);
  private static final long MIN_CHUNK = 1L << 20;
  private static final long MAX_CHUNK = 64L << 20;
  /** Chunks of one blob at most (each is an object with its own retrier); bigger chunks then. */
  static final int MAX_CHUNKS = 1 << 16;
  /** Safety net only: writers notify the in-order hasher after every write. */
  private static final long PROGRESS_POLL_MS = 200;

  /** One stream: takes the next chunk in order until none is left or it is retired. */
  private static final class Part {
    volatile BlobRange current;
    Future<Void> done;
    /** Seen delivering by the hasher's thread (the only one reading it). */
    boolean delivered;
  }

  private final BlobDownload blob;
  private final ExecutorService executor;
  private final int maxStreams;
  /** Where the download begins: the writer holds the bytes before it (0: it is emptied). */
  private final long from;
  /** Runs after {@link #from} the writer already holds (kept on disk): not fetched again. */
  private final List<ByteRun> held;
  private final RegistryStats stats;
  private final StreamGrowth growth;
  /** Set when a part failed or the hasher gave up: the other parts stop. */
  private final AtomicBoolean abort = new AtomicBoolean();
  /** Notified after every write, so that the in-order hasher waits no longer than it must. */
  private final Object progress = new Object();
  /** Writes so far: the hasher waits only if none came since it last looked. */
  private final AtomicLong writes = new AtomicLong();
  /** Bytes written by all parts, for {@link StreamGrowth}. */
  private final AtomicLong bytes = new AtomicLong();
  /** Parts to stop after their current chunk. */
  private final AtomicInteger retire = new AtomicInteger();
  /** Index of the next chunk to take. */
  private final AtomicInteger next = new AtomicInteger(1);
  /** Started parts; added to by the calling thread only, before {@link #awaitParts}. */
  private final List<Part> parts = new ArrayList<>();
  private BlobRange[] chunks;

  /**
   * A download of bytes {@code [from, size)} but the runs {@code held} (in order, after
   * {@code from}), the writer holding those and the bytes before {@code from} (kept on disk).
   */
  RangedBlobDownload(BlobDownload blob, ExecutorService executor, int maxStreams, long from,
      List<ByteRun> held, RegistryStats stats) {
    this.blob = blob;
    this.executor = executor;
    this.maxStreams = maxStreams;
    this.from = from;
    this.held = List.copyOf(held);
    this.stats = stats;
    this.growth = new StreamGrowth(maxStreams, StreamGrowth.WINDOW_NANOS);
  }

  /**
   * Downloads the blob into the writer (emptied first unless it holds bytes before
   * {@code from} or runs after it, which are not fetched again), syncs it and returns the
   * digest of what was written; null, having written nothing that matters, when the registry
   * does not honour {@code Range}.
   */
  Digest fetch() throws IOException {
    BlobWriter out = blob.writer();
    if (from == 0 && held.isEmpty()) {
      out.restart();
    }
    List<BlobRange> planned = new ArrayList<>();
    for (ByteRun c : plan(from, blob.size(), held, maxStreams)) {
      planned.add(BlobRange.chunk(blob, out, c.start(), c.end(), abort::get, this::wrote));
    }
    if (planned.isEmpty()) {
      return out.finish(); // all held already: the digest decides
    }
    chunks = planned.toArray(BlobRange[]::new);
    boolean resumed = from > 0 || !held.isEmpty();
    if (resumed) {
      chunks[0].continueAt(chunks[0].position());
    }
    // The first chunk probes: only a 206 proves the registry serves ranges.
    RegistryResponse probe = chunks[0].request();
    if (probe.statusCode() == 200) {
      LOG.info("{}: the registry ignores Range; downloading it as one stream", blob.subject());
      return BlobRange.fetchWhole(blob, out, probe);
    }
    if (probe.statusCode() == 416 && resumed) {
      probe.close();
      LOG.info("{}: the registry refused Range at {} (416); starting over", blob.subject(),
          chunks[0].position());
      return null;
    }
    if (probe.statusCode() != 206) {
      // 404, 401, 5xx after retries...: report it from here, before more connections ask.
      chunks[0].fetch(probe);
      throw new RegistryException(Kind.INVALID_CONTENT, blob.subject() + ": HTTP "
          + probe.statusCode() + " to a range request");
    }
    startPart(probe);
    boolean hashed = hashInOrder(out);
    IOException failure = awaitParts();
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

  private void wrote(long n) {
    bytes.addAndGet(n);
    writes.incrementAndGet();
    synchronized (progress) {
      progress.notifyAll();
    }
  }

  /**
   * Starts one more part; the first begins with chunk 0 and the answer to the probe, the others
   * with the next chunk not taken yet.
   */
  private void startPart(RegistryResponse probe) {
    Part part = new Part();
    parts.add(part);
    part.done = executor.submit(() -> {
      try {
        if (probe != null) {
          part.current = chunks[0];
          chunks[0].fetch(probe);
        }
        for (int i; !abort.get() && !retired() && (i = next.getAndIncrement()) < chunks.length; ) {
          part.current = chunks[i];
          chunks[i].fetch(null);
        }
        return null;
      } catch (IOException | RuntimeException e) {
        abort.set(true);
        throw e;
      } finally {
        wrote(0); // wake the hasher to notice the end or the failure
      }
    });
  }

  /** True (once per retirement asked for) when the calling part is to stop. */
  private boolean retired() {
    return retire.getAndUpdate(r -> Math.max(0, r - 1)) > 0;
  }

  /** Adds or retires a part as {@link StreamGrowth} says. On the hasher's thread. */
  private void grow() {
    int flowing = 0;
    for (Part p : parts) {
      BlobRange c = p.current;
      p.delivered |= c != null && c.delivered();
      flowing += p.delivered ? 1 : 0;
    }
    switch (growth.sample(System.nanoTime(), bytes.get(), flowing)) {
      case ADD -> {
        if (!abort.get() && next.get() < chunks.length) {
          stats.rangeStreamAdded();
          startPart(null);
        }
      }
      case RETIRE -> {
        stats.rangeStreamRetired();
        retire.incrementAndGet();
        LOG.debug("{}: a stream more did not add throughput; {} stream(s)", blob.subject(),
            growth.streams());
      }
      case KEEP -> { }
    }
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
      grow();
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
  private IOException awaitParts() throws IOException {
    IOException failure = null;
    boolean interrupted = false;
    for (Part part : parts) {
      Future<Void> f = part.done;
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
   * The chunks, in order, that cover the bytes of {@code [from, size)} not in {@code held} (runs
   * in order after {@code from}), each at most {@link #chunkSize} of the missing total; at most
   * {@link #MAX_CHUNKS} plus one per run held.
   */
  static List<ByteRun> plan(long from, long size, List<ByteRun> held, int connections) {
    List<ByteRun> gaps = new ArrayList<>();
    long at = from;
    for (ByteRun run : held) {
      if (run.start() > at) {
        gaps.add(new ByteRun(at, Math.min(run.start(), size)));
      }
      at = Math.max(at, run.end());
    }
    if (at < size) {
      gaps.add(new ByteRun(at, size));
    }
    long chunk = chunkSize(gaps.stream().mapToLong(ByteRun::length).sum(), connections);
    List<ByteRun> chunks = new ArrayList<>();
    for (ByteRun gap : gaps) {
      for (long c = gap.start(); c < gap.end(); c += chunk) {
        chunks.add(new ByteRun(c, Math.min(gap.end(), c + chunk)));
      }
    }
    return chunks;
  }

  /**
   * Chunk size of a parallel download: about eight chunks per connection at most, so that the in-order
   * hasher trails the download closely and a slow connection only holds back its own chunk;
   * between 1 MiB and 64 MiB (docs/decisions/0304), and larger when that would make more than
   * {@link #MAX_CHUNKS} chunks (a blob over 4 TiB), so the count always fits an array.
   */
  static long chunkSize(long size, int connections) {
    long target = ceilDiv(size, connections * 8L);
    long chunk = Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, target));
    return Math.max(chunk, ceilDiv(size, MAX_CHUNKS));
  }

  /** {@code ⌈a / b⌉} for {@code a ≥ 0, b > 0}, without the overflow of {@code (a + b - 1) / b}. */
  private static long ceilDiv(long a, long b) {
    return a / b + (a % b == 0 ? 0 : 1);
  }
}
