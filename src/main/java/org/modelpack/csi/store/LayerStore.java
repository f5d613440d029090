package org.modelpack.csi.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
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
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.concurrent.LruCache;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.fs.NoSpace;
import org.modelpack.csi.materialize.ExpansionLimitException;
import org.modelpack.csi.oci.Digest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-wide layer store: every layer is downloaded once per node, kept once, and linked into
 * each volume that uses it.
 *
 * <p><b>Singleflight.</b> Requests for a key that is being downloaded join its flight. Each
 * waiter has its own future, completed one by one when the flight ends, so no broadcast wakes
 * every thread at once. The download runs on the store's own threads, not the requester's: a
 * requester that leaves (cancelled, interrupted) only removes itself, and the download goes on
 * while anyone still waits. If the download fails, its requester gets the error and exactly one
 * of the remaining waiters takes over with its own fetcher; the rest keep waiting. When the last
 * waiter leaves, the download is cancelled.
 *
 * <p><b>Downloads limit.</b> At most {@code nodeLayerConcurrency} flights download at once
 * (0 = unlimited). Only a flight's download holds a permit; waiting for another flight never
 * does, so the limit cannot deadlock.
 *
 * <p><b>References.</b> A volume references an entry from the moment it is handed the entry
 * until {@link #releaseVolume}. Referenced and in-flight entries are never evicted; unreferenced
 * ones stay as a warm cache until the size budget or the disk watermark asks for space.
 */
public final class LayerStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LayerStore.class);
  private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private final StoreLayout layout;
  private final Ingester ingester;
  private final Materializer materializer = new Materializer();
  private final StoreStats stats = new StoreStats();
  private final Semaphore downloadPermits;
  private final EvictionPolicy policy;
  private final Clock clock;
  private final ExecutorService executor;

  private final Object lock = new Object();
  private final Map<LayerKey, Indexed> index = new HashMap<>();
  private final Map<LayerKey, Flight> flights = new HashMap<>();
  /**
   * Recorded manifests read or written by this process, the only writer of refs/ and
   * manifests/: a warm pull then reads and hashes no file to learn what its tag named.
   */
  private final LruCache<String, RecordedManifest> recorded = new LruCache<>(256);

  /** An entry known to the store, with the volumes using it. Guarded by {@link #lock}. */
  static final class Indexed {
    final StoreEntry entry;
    final Set<String> volumes = new HashSet<>();
    Instant lastUsed;

    Indexed(StoreEntry entry, Instant lastUsed) {
      this.entry = entry;
      this.lastUsed = lastUsed;
    }
  }

  LayerStore(StoreLayout layout, int nodeLayerConcurrency, EvictionPolicy policy, Clock clock,
      ExpansionLimits expansion) {
    this.layout = layout;
    this.ingester = new Ingester(layout,
        new ExpansionBudgets(expansion, layout, this::committedBytes));
    this.downloadPermits = nodeLayerConcurrency > 0 ? new Semaphore(nodeLayerConcurrency, true)
        : null;
    this.policy = policy;
    this.clock = clock;
    this.executor = Executors.newCachedThreadPool(DaemonThreads.named("store-ingest"));
  }

  /**
   * Opens the store at {@code layout}, rebuilding its index from a scan of the store and the
   * volume records under {@code volumesDir}.
   */
  public static LayerStore open(StoreLayout layout, Path volumesDir, int nodeLayerConcurrency,
      EvictionPolicy policy, Clock clock) throws IOException {
    return open(layout, volumesDir, nodeLayerConcurrency, policy, clock, ExpansionLimits.DEFAULT);
  }

  /** As above, with the bounds of tar layer extraction (docs/decisions/0820). */
  public static LayerStore open(StoreLayout layout, Path volumesDir, int nodeLayerConcurrency,
      EvictionPolicy policy, Clock clock, ExpansionLimits expansion) throws IOException {
    LayerStore store = new LayerStore(layout, nodeLayerConcurrency, policy, clock, expansion);
    long start = System.nanoTime();
    StoreScan.Result scan = new StoreScan(layout, volumesDir).run();
    synchronized (store.lock) {
      scan.entries().forEach((key, e) -> store.index.put(key, new Indexed(e.entry(), e.lastUsed())));
      scan.references().forEach((key, volumes) -> {
        Indexed i = store.index.get(key);
        if (i != null) {
          i.volumes.addAll(volumes);
        }
      });
    }
    log.info("layer store {}: {} entries, {} referenced, rebuilt in {} ms", layout.root(),
        scan.entries().size(), scan.references().size(), (System.nanoTime() - start) / 1_000_000);
    return store;
  }

  public StoreLayout layout() {
    return layout;
  }

  public StoreStats stats() {
    return stats;
  }

  // ------------------------------------------------------------------ singleflight

  /** Asks for a layer on behalf of {@code volumeId}; see the class comment for the rules. */
  public Ticket request(String volumeId, LayerRequest req, BlobFetcher fetcher) {
    LayerKey key = req.key();
    synchronized (lock) {
      Indexed hit = index.get(key);
      if (hit != null) {
        hit.volumes.add(volumeId);
        hit.lastUsed = clock.instant();
        stats.hits.incrementAndGet();
        stats.bytesSavedByDedup.addAndGet(hit.entry.size());
        return new Waiter(null, volumeId, fetcher, CompletableFuture.completedFuture(hit.entry));
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

  /** Guarded by {@link #lock}. */
  private void start(Flight flight, Waiter owner) {
    flight.owner = owner;
    try {
      flight.task = executor.submit(() -> download(flight, owner));
    } catch (RejectedExecutionException e) {
      // Closed: nobody will run this flight, so nobody may wait for it (a takeover after the
      // shutdown interrupted the download lands here too).
      if (flights.get(flight.request.key()) == flight) {
        flights.remove(flight.request.key());
      }
      flight.done = true;
      IOException closed = new IOException("the layer store is closed");
      flight.waiters.forEach(w -> w.result.completeExceptionally(closed));
      flight.waiters.clear();
    }
  }

  private void download(Flight flight, Waiter owner) {
    StoreEntry entry;
    try {
      if (downloadPermits != null) {
        downloadPermits.acquire();
      }
      try {
        entry = ingestMakingRoom(flight, owner.fetcher);
      } finally {
        if (downloadPermits != null) {
          downloadPermits.release();
        }
      }
    } catch (Throwable t) {
      failed(flight, owner, t);
      return;
    }
    succeeded(flight, entry);
  }

  /**
   * Before failing a download for lack of space (ENOSPC, or an extraction beyond the space it
   * had), evict unreferenced entries and try once more.
   */
  private StoreEntry ingestMakingRoom(Flight flight, BlobFetcher fetcher) throws IOException {
    LayerRequest req = flight.request;
    try {
      return ingester.ingest(req, fetcher, p -> flight.partial = p);
    } catch (IOException e) {
      boolean shortOfSpace = NoSpace.causedBy(e) || (e instanceof ExpansionLimitException x
          && x.bound() == ExpansionLimitException.Bound.SPACE);
      if (!shortOfSpace) {
        throw e;
      }
      EvictionResult freed = evictUnreferenced(Long.MAX_VALUE, 0);
      if (freed.evicted().isEmpty()) {
        throw e;
      }
      log.warn("out of space ingesting {}; evicted {} entries ({} bytes), retrying",
          req.digest(), freed.evicted().size(), freed.bytesFreed());
      return ingester.ingest(req, fetcher, p -> flight.partial = p);
    }
  }

  private void succeeded(Flight flight, StoreEntry entry) {
    List<Waiter> waiting;
    synchronized (lock) {
      // A cancelled flight can finish after a newer one for the same key: keep the indexed
      // entry and the volumes that already reference it.
      Indexed indexed = index.computeIfAbsent(entry.key(), k -> new Indexed(entry, null));
      indexed.lastUsed = clock.instant();
      if (flights.get(entry.key()) == flight) {
        flights.remove(entry.key());
      }
      flight.done = true;
      waiting = new ArrayList<>(flight.waiters);
      waiting.forEach(w -> indexed.volumes.add(w.volumeId));
      flight.waiters.clear();
      stats.bytesDownloaded.addAndGet(flight.request.size());
    }
    // Each waiter is woken on its own future.
    waiting.forEach(w -> w.result.complete(entry));
    evictIfNeeded();
  }

  private void failed(Flight flight, Waiter owner, Throwable error) {
    synchronized (lock) {
      flight.waiters.remove(owner);
      owner.result.completeExceptionally(error);
      Waiter next = flight.cancelled ? null : flight.waiters.peekFirst();
      if (next == null) {
        if (flights.get(flight.request.key()) == flight) {
          flights.remove(flight.request.key());
        }
        flight.done = true;
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
    synchronized (lock) {
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

  /** One download in progress. Guarded by {@link #lock}. */
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

  // ------------------------------------------------------------------ volumes

  /** Links or clones an entry into a volume's model directory (copies it for a writable one). */
  public Set<PlacementMethod> materialize(StoreEntry entry, Path modelDir, String rawPath,
      boolean privateCopy) throws IOException {
    return materializer.place(entry, modelDir, rawPath, privateCopy);
  }

  /**
   * Persists the volume's record (one atomic write per pull) and notes its use. Not fsynced: a
   * record lost to a power cut only costs dedup bookkeeping (the volume's own hard links keep
   * its files whole), while an fsync would sit on every publish's path.
   */
  public void recordVolume(Path volumeDir, VolumeRecord record) throws IOException {
    FileTrees.writeAtomically(volumeDir.resolve(VolumeRecord.FILE), JSON.writeValueAsBytes(record),
        false);
    synchronized (lock) {
      for (VolumeRecord.Layer l : record.layers()) {
        Indexed i = index.get(l.key());
        if (i != null) {
          i.volumes.add(record.volumeId());
          i.lastUsed = record.completedAt();
        }
      }
    }
  }

  /**
   * What keeps the volume's model directory from being mounted as its record says, or empty
   * when every recorded file is there (see {@link PlacedTreeCheck}).
   */
  public Optional<String> checkPlaced(Path volumeDir, Path modelDir, String manifestDigest)
      throws IOException {
    Path file = volumeDir.resolve(VolumeRecord.FILE);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of("it has no " + VolumeRecord.FILE);
    }
    VolumeRecord record;
    try {
      record = JSON.readValue(file.toFile(), VolumeRecord.class);
    } catch (IOException e) {
      return Optional.of(file + " is unreadable: " + e.getMessage());
    }
    if (manifestDigest != null && !manifestDigest.equals(record.manifestDigest())) {
      return Optional.of(file + " names manifest " + record.manifestDigest() + ", not "
          + manifestDigest);
    }
    Map<LayerKey, StoreEntry> entries = new HashMap<>();
    synchronized (lock) {
      record.layers().forEach(l -> {
        Indexed i = index.get(l.key());
        if (i != null) {
          entries.put(l.key(), i.entry);
        }
      });
    }
    return PlacedTreeCheck.mismatch(record, modelDir, entries::get);
  }

  /** Drops every reference {@code volumeId} holds; its entries stay as warm cache. */
  public void releaseVolume(String volumeId) {
    synchronized (lock) {
      index.values().forEach(i -> i.volumes.remove(volumeId));
    }
    evictIfNeeded();
  }

  // ------------------------------------------------------------------ manifests of past pulls

  /** Remembers what {@code reference} resolved to, for pulls while the registry is down. */
  public void recordManifest(String reference, String digest, String namedDigest, byte[] raw,
      boolean anonymousReadable) throws IOException {
    if (recorded.get(reference).filter(known -> known.digest().equals(digest)
        && known.namedDigest().equals(namedDigest)
        && known.anonymousReadable() == anonymousReadable).isPresent()) {
      return;
    }
    Path manifest = layout.manifest(digest);
    if (!Files.exists(manifest)) {
      FileTrees.writeAtomically(manifest, raw);
    }
    Path ref = refFile(reference);
    // Sorted keys: the same record is the same bytes, so an unchanged one is not rewritten.
    byte[] json = JSON.writeValueAsBytes(new java.util.TreeMap<>(Map.of("reference", reference,
        "digest", digest, "named_digest", namedDigest,
        "anonymous_readable", anonymousReadable)));
    if (!Files.exists(ref) || !java.util.Arrays.equals(Files.readAllBytes(ref), json)) {
      FileTrees.writeAtomically(ref, json);
    }
    recorded.put(reference, new RecordedManifest(reference, digest, namedDigest, raw,
        anonymousReadable));
  }

  /** What {@code reference} resolved to at its last pull on this node, verified. */
  public Optional<RecordedManifest> recordedManifest(String reference) {
    Optional<RecordedManifest> known = recorded.get(reference);
    if (known.isPresent()) {
      return known;
    }
    Path ref = refFile(reference);
    try {
      if (!Files.isRegularFile(ref)) {
        return Optional.empty();
      }
      com.fasterxml.jackson.databind.JsonNode record = JSON.readTree(ref.toFile());
      String digest = record.path("digest").asText();
      // Records written before named_digest existed: as if the reference named the manifest.
      String named = record.path("named_digest").asText(digest);
      boolean anonymous = record.path("anonymous_readable").asBoolean(false);
      byte[] raw = Files.readAllBytes(layout.manifest(digest));
      Digest d = Digest.parse(digest);
      if (!d.matches(d.newHasher().digest(raw))) {
        log.warn("recorded manifest {} is corrupt; ignoring it", digest);
        return Optional.empty();
      }
      RecordedManifest read = new RecordedManifest(reference, digest, named, raw, anonymous);
      recorded.put(reference, read);
      return Optional.of(read);
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read the recorded manifest of {}: {}", reference, e.getMessage());
      return Optional.empty();
    }
  }

  private Path refFile(String reference) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(reference.getBytes(
          java.nio.charset.StandardCharsets.UTF_8));
      return layout.refs().resolve(HexFormat.of().formatHex(h) + ".json");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ operator view, eviction

  public List<EntryInfo> entries() {
    synchronized (lock) {
      return index.values().stream()
          .map(i -> new EntryInfo(i.entry.key(), i.entry.size(), i.volumes, i.lastUsed))
          .sorted(Comparator.comparing(EntryInfo::lastUsed)).toList();
    }
  }

  public long size() {
    synchronized (lock) {
      return index.values().stream().mapToLong(i -> i.entry.size()).sum();
    }
  }

  /**
   * Forgets {@code entry} when its file or tree is no longer on disk (removed by hand, or lost
   * with a disk), so the next request downloads it again instead of failing on it for ever.
   */
  public void forgetIfVanished(StoreEntry entry) {
    if (Files.exists(entry.path(), LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    synchronized (lock) {
      Indexed i = index.get(entry.key());
      if (i != null && i.entry.equals(entry)) {
        index.remove(entry.key());
        log.warn("store entry {} vanished from {}; it will be downloaded again", entry.key(),
            entry.path());
      }
    }
  }

  /** Whether the entry is on the node now (a download in flight does not count). */
  public boolean isStored(LayerKey key) {
    synchronized (lock) {
      return index.containsKey(key);
    }
  }

  /**
   * What a new pull gets without adding to the store: the keys of its entries and of the
   * downloads in flight (a new request joins those).
   */
  public Set<LayerKey> keys() {
    synchronized (lock) {
      Set<LayerKey> keys = new HashSet<>(index.keySet());
      keys.addAll(flights.keySet());
      return keys;
    }
  }

  /** Bytes the store holds plus the announced sizes of the downloads in flight. */
  public long committedBytes() {
    synchronized (lock) {
      return index.values().stream().mapToLong(i -> i.entry.size()).sum()
          + flights.values().stream().mapToLong(f -> f.request.size()).sum();
    }
  }

  /** Free bytes (for an unprivileged writer) on the filesystem holding the store. */
  public long usableSpace() throws IOException {
    return fileStore().getUsableSpace();
  }

  /** Size of the filesystem holding the store: no entry can ever be larger. */
  public long filesystemSize() throws IOException {
    return fileStore().getTotalSpace();
  }

  private FileStore fileStore() throws IOException {
    Path p = layout.root();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    return Files.getFileStore(p == null ? layout.root() : p);
  }

  /** Applies the policy: size budget, then the disk high/low watermarks. */
  public EvictionResult evictIfNeeded() {
    long budget = policy.maxSizeBytes() > 0 ? policy.maxSizeBytes() : Long.MAX_VALUE;
    double usage = diskUsagePercent();
    int targetPercent = usage > policy.highWatermarkPercent() ? policy.lowWatermarkPercent() : 100;
    if (size() <= budget && targetPercent == 100) {
      return new EvictionResult(List.of(), 0);
    }
    return evictUnreferenced(budget, targetPercent);
  }

  /**
   * Evicts unreferenced entries, least recently used first, until the store is within
   * {@code budget} bytes and the disk within {@code targetPercent} usage.
   */
  public EvictionResult evictUnreferenced(long budget, int targetPercent) {
    return evictUnreferenced(budget, targetPercent, Set.of());
  }

  /** As above, never evicting the entries in {@code keep} (a pull about to use them). */
  public EvictionResult evictUnreferenced(long budget, int targetPercent, Set<LayerKey> keep) {
    List<Path> trash = new ArrayList<>();
    List<LayerKey> evicted = new ArrayList<>();
    long freed = 0;
    long total = diskTotal();
    double usage = diskUsagePercent();
    synchronized (lock) {
      long size = index.values().stream().mapToLong(i -> i.entry.size()).sum();
      List<Indexed> candidates = index.values().stream()
          // An entry a running flight may be about to hand out (a late, cancelled ingest of the
          // same digest placed it) is not evicted under that flight.
          .filter(i -> i.volumes.isEmpty() && !keep.contains(i.entry.key())
              && !flights.containsKey(i.entry.key()))
          .sorted(Comparator.comparing(i -> i.lastUsed)).toList();
      for (Indexed c : candidates) {
        if (size <= budget && usage <= targetPercent) {
          break;
        }
        Path moved = layout.ingest().resolve("evicting-" + c.entry.key().digest().replace(':', '-')
            + "-" + System.nanoTime());
        try {
          org.modelpack.csi.fs.Dirs.create(layout.ingest(), org.modelpack.csi.fs.Dirs.PRIVATE);
          // Renamed away under the lock, so a new download of the same key can never see a
          // half-deleted entry.
          Files.move(c.entry.path(), moved);
          if (c.entry.key().kind() == EntryKind.TREE) {
            Files.deleteIfExists(layout.treeMeta(c.entry.key()));
          }
        } catch (IOException e) {
          log.warn("cannot evict {}: {}", c.entry.key(), e.getMessage());
          continue;
        }
        index.remove(c.entry.key());
        trash.add(moved);
        evicted.add(c.entry.key());
        freed += c.entry.size();
        size -= c.entry.size();
        if (total > 0) {
          usage -= 100.0 * c.entry.size() / total;
        }
      }
    }
    for (Path p : trash) {
      try {
        ReadOnly.makeDeletable(p);
        FileTrees.delete(p);
      } catch (IOException e) {
        log.warn("cannot delete evicted {}: {}", p, e.getMessage());
      }
    }
    if (!evicted.isEmpty()) {
      stats.evictions.addAndGet(evicted.size());
      stats.bytesEvicted.addAndGet(freed);
      log.info("evicted {} unreferenced entries ({} bytes)", evicted.size(), freed);
    }
    return new EvictionResult(evicted, freed);
  }

  private double diskUsagePercent() {
    try {
      FileStore fs = Files.getFileStore(layout.root());
      long total = fs.getTotalSpace();
      return total == 0 ? 0 : 100.0 * (total - fs.getUsableSpace()) / total;
    } catch (IOException e) {
      return 0;
    }
  }

  private long diskTotal() {
    try {
      return Files.getFileStore(layout.root()).getTotalSpace();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
