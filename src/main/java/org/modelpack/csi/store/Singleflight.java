package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One download per layer key, however many volumes ask.
 *
 * <p>Requests for a key that is being downloaded join its flight. Each waiter has its own
 * future, completed one by one when the flight ends, so no broadcast wakes every thread at once.
 * The download runs on this class's threads, not the requester's: a requester that leaves
 * (cancelled, interrupted) only removes itself, and the download goes on while anyone still
 * waits. If the download fails, its requester gets the error and exactly one of the remaining
 * waiters takes over with its own fetcher; the rest keep waiting. When the last waiter leaves,
 * the download is cancelled.
 *
 * <p>At most {@code nodeLayerConcurrency} flights download at once (0 = unlimited). Only a
 * flight's download holds a permit; waiting for another flight never does, so the limit cannot
 * deadlock.
 */
final class Singleflight implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Singleflight.class);

  /**
   * Turns one fetch into a store entry; {@code partial} learns where it writes, {@code
   * abandoned} whether nobody wants the download any more (it was cancelled).
   */
  interface Download {
    StoreEntry run(LayerRequest req, BlobFetcher fetcher, Consumer<Path> partial,
        java.util.function.BooleanSupplier abandoned) throws IOException;
  }

  private final StoreIndex index;
  private final Download download;
  private final StoreStats stats;
  private final Clock clock;
  private final Runnable afterDownload;
  private final Semaphore permits;
  private final ExecutorService executor =
      Executors.newCachedThreadPool(DaemonThreads.named("store-ingest"));
  /** Guarded by {@code index.lock}. */
  private final Map<LayerKey, Flight> flights = new HashMap<>();

  /** {@code afterDownload} runs after each new entry (the eviction check), outside the lock. */
  Singleflight(StoreIndex index, int nodeLayerConcurrency, Download download, StoreStats stats,
      Clock clock, Runnable afterDownload) {
    this.index = index;
    this.download = download;
    this.stats = stats;
    this.clock = clock;
    this.afterDownload = afterDownload;
    this.permits = nodeLayerConcurrency > 0 ? new Semaphore(nodeLayerConcurrency, true) : null;
  }

  /** Asks for a layer on behalf of {@code volumeId}: hit, join, or a new flight. */
  Ticket request(String volumeId, LayerRequest req, BlobFetcher fetcher) {
    LayerKey key = req.key();
    synchronized (index.lock) {
      Optional<StoreEntry> hit = index.use(key, volumeId, clock.instant());
      if (hit.isPresent()) {
        stats.hits.incrementAndGet();
        stats.bytesSavedByDedup.addAndGet(hit.get().size());
        return new Waiter(null, volumeId, fetcher, CompletableFuture.completedFuture(hit.get()));
      }
      Flight flight = flights.get(key);
      if (flight != null) {
        Waiter w = new Waiter(flight, volumeId, fetcher, new CompletableFuture<>());
        flight.waiters.add(w);
        stats.joins.incrementAndGet();
        stats.bytesSavedByDedup.addAndGet(req.size());
        return w;
      }
      flight = new Flight(req);
      Waiter owner = new Waiter(flight, volumeId, fetcher, new CompletableFuture<>());
      flight.waiters.add(owner);
      flights.put(key, flight);
      stats.misses.incrementAndGet();
      start(flight, owner);
      return owner;
    }
  }

  /** Whether a download of {@code key} is under way; the caller holds {@code index.lock}. */
  boolean inFlightLocked(LayerKey key) {
    return flights.containsKey(key);
  }

  Set<LayerKey> keys() {
    synchronized (index.lock) {
      return new HashSet<>(flights.keySet());
    }
  }

  /** The announced sizes of the downloads in flight. */
  long announcedBytes() {
    synchronized (index.lock) {
      return flights.values().stream().mapToLong(f -> f.request.size()).sum();
    }
  }

  /** Guarded by {@code index.lock}. */
  private void start(Flight flight, Waiter owner) {
    flight.owner = owner;
    try {
      flight.task = executor.submit(() -> download(flight, owner));
    } catch (RejectedExecutionException e) {
      // Closed: nobody will run this flight, so nobody may wait for it (a takeover after the
      // shutdown interrupted the download lands here too).
      forget(flight);
      IOException closed = new IOException("the layer store is closed");
      flight.waiters.forEach(w -> w.result.completeExceptionally(closed));
      flight.waiters.clear();
    }
  }

  private void download(Flight flight, Waiter owner) {
    StoreEntry entry;
    long start = 0;
    boolean slotTaken = false;
    try {
      if (permits != null) {
        permits.acquire();
      }
      start = System.nanoTime();
      slotTaken = true;
      try {
        entry = download.run(flight.request, owner.fetcher, p -> flight.partial = p,
            () -> wasCancelled(flight));
      } finally {
        if (permits != null) {
          permits.release();
        }
      }
    } catch (Throwable t) {
      if (slotTaken && !wasCancelled(flight)) {
        stats.downloadEnded(flight.request.size(), System.nanoTime() - start, false);
      }
      failed(flight, owner, t);
      return;
    }
    stats.downloadEnded(flight.request.size(), System.nanoTime() - start, true);
    succeeded(flight, entry);
  }

  /** A download nobody wants any more ended by being cancelled: not a failure. */
  private boolean wasCancelled(Flight flight) {
    synchronized (index.lock) {
      return flight.cancelled;
    }
  }

  private void succeeded(Flight flight, StoreEntry entry) {
    List<Waiter> waiting;
    synchronized (index.lock) {
      waiting = new ArrayList<>(flight.waiters);
      index.add(entry, waiting.stream().map(w -> w.volumeId).toList(), clock.instant());
      forget(flight);
      flight.waiters.clear();
      stats.bytesDownloaded.addAndGet(flight.request.size());
    }
    // Each waiter is woken on its own future.
    waiting.forEach(w -> w.result.complete(entry));
    afterDownload.run();
  }

  private void failed(Flight flight, Waiter owner, Throwable error) {
    synchronized (index.lock) {
      flight.waiters.remove(owner);
      owner.result.completeExceptionally(error);
      Waiter next = flight.cancelled ? null : flight.waiters.peekFirst();
      if (next == null) {
        forget(flight);
        return;
      }
      log.warn("download of {} failed ({}); another waiter takes over", flight.request.digest(),
          error.toString());
      start(flight, next);
    }
  }

  private void leave(Waiter w) {
    Flight flight = w.flight;
    if (flight == null) {
      return;
    }
    synchronized (index.lock) {
      if (flight.done || !flight.waiters.remove(w)) {
        return;
      }
      w.result.cancel(false);
      if (flight.waiters.isEmpty()) {
        flight.cancelled = true;
        flights.remove(flight.request.key());
        flight.task.cancel(true);
        log.info("download of {} cancelled: nobody wants it any more", flight.request.digest());
      }
    }
  }

  /** Ends a flight; a newer flight of the same key stays. Guarded by {@code index.lock}. */
  private void forget(Flight flight) {
    if (flights.get(flight.request.key()) == flight) {
      flights.remove(flight.request.key());
    }
    flight.done = true;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** One download in progress. Guarded by {@code index.lock}. */
  private static final class Flight {
    final LayerRequest request;
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    Waiter owner;
    Future<?> task;
    /** Where the current download writes; read without the lock, for progress only. */
    volatile Path partial;
    boolean done;
    boolean cancelled;

    Flight(LayerRequest request) {
      this.request = request;
    }
  }

  private final class Waiter implements Ticket {
    final Flight flight;
    final String volumeId;
    final BlobFetcher fetcher;
    final CompletableFuture<StoreEntry> result;

    Waiter(Flight flight, String volumeId, BlobFetcher fetcher,
        CompletableFuture<StoreEntry> result) {
      this.flight = flight;
      this.volumeId = volumeId;
      this.fetcher = fetcher;
      this.result = result;
    }

    @Override
    public StoreEntry await() throws IOException, InterruptedException {
      try {
        return result.get();
      } catch (InterruptedException e) {
        cancel();
        throw e;
      } catch (CancellationException e) {
        throw new InterruptedException("left the line for " + (flight == null ? "?"
            : flight.request.digest()));
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof IOException io) {
          throw io;
        }
        if (c instanceof RuntimeException re) {
          throw re;
        }
        if (c instanceof InterruptedException ie) {
          throw new IOException("download was interrupted", ie);
        }
        throw new IOException(c);
      }
    }

    @Override
    public long bytesDone() {
      if (result.isDone() && !result.isCompletedExceptionally()) {
        return result.join().size();
      }
      Path p = flight == null ? null : flight.partial;
      try {
        return p == null ? 0 : Files.size(p);
      } catch (IOException e) {
        return 0;
      }
    }

    @Override
    public void cancel() {
      leave(this);
    }
  }
}
