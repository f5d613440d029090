package org.modelpack.csi.store;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.modelpack.csi.fs.NoSpace;
import org.modelpack.csi.unpack.ExpansionLimitException;
import org.modelpack.csi.oci.BlobSource;
import org.modelpack.csi.oci.Descriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-wide layer store: every layer is downloaded once per node, kept once, and linked into
 * each volume that uses it. This class wires its parts and is the one object callers hold; each
 * caller depends only on the role it needs ({@link LayerPlacer}, {@link VolumeLayers},
 * {@link ManifestRecords}, {@link StoreCapacity}, {@link StoreInventory}; see
 * docs/decisions/0901).
 *
 * <p>Downloads go through {@link Singleflight} (one per key, at most {@code
 * nodeLayerConcurrency} at once) into the {@link Ingester} (verify, then rename into place);
 * the {@link Materializer} links entries into volumes; the {@link StoreIndex} knows each
 * entry's volumes. A volume references an entry from the moment it is handed the entry until
 * {@link #releaseVolume}. Referenced and in-flight entries are never evicted; unreferenced ones
 * stay as a warm cache until the size budget or the disk watermark asks for space
 * ({@link Evictor}).
 */
public final class LayerStore implements LayerPlacer, VolumeLayers, ManifestRecords,
    StoreCapacity, StoreInventory, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LayerStore.class);

  private final StoreLayout layout;
  private final StoreIndex index;
  private final StoreStats stats = new StoreStats();
  private final Ingester ingester;
  private final Materializer materializer = new Materializer();
  private final Singleflight flights;
  private final Evictor evictor;
  private final VolumeLayers volumes;
  private final ManifestRecords manifests;

  private LayerStore(StoreLayout layout, StoreIndex index, int nodeLayerConcurrency,
      EvictionPolicy policy, Clock clock, ExpansionLimits expansion) {
    this.layout = layout;
    this.index = index;
    UnsyncedEntries unsynced = new UnsyncedEntries(layout);
    this.ingester = new Ingester(layout,
        new ExpansionBudgets(expansion, layout, this::committedBytes), unsynced);
    this.flights = new Singleflight(index, nodeLayerConcurrency, this::ingestMakingRoom, stats,
        clock, this::evictIfNeeded);
    this.evictor = new Evictor(layout, index, flights::inFlightLocked, policy, stats);
    this.volumes = new VolumeRecordFiles(index, unsynced, this::evictIfNeeded);
    this.manifests = new ManifestRecordFiles(layout);
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
    long start = System.nanoTime();
    StoreScan.Result scan = new StoreScan(layout, volumesDir).run();
    LayerStore store = new LayerStore(layout, StoreIndex.of(scan), nodeLayerConcurrency, policy,
        clock, expansion);
    log.info("layer store {}: {} entries, {} referenced, rebuilt in {} ms", layout.root(),
        scan.entries().size(), scan.references().size(), (System.nanoTime() - start) / 1_000_000);
    return store;
  }

  public StoreLayout layout() {
    return layout;
  }

  // ------------------------------------------------------------------ placing layers

  @Override
  public Set<PlacementMethod> place(Placement p, BlobSource source, LayerProgress progress)
      throws IOException, InterruptedException {
    LayerRequest req = p.layer();
    Descriptor blob = new Descriptor(null, req.digest(), req.size(), null);
    BlobFetcher fetcher = out -> source.fetch(blob, out);
    Ticket ticket = request(p.volumeId(), req, fetcher);
    progress.track(ticket, req.size());
    StoreEntry entry = ticket.await();
    try {
      return materializer.place(entry, p.modelDirs(), p.path(), p.privateCopy());
    } catch (NoSuchFileException e) {
      // The entry's file went away: forgotten, so the request downloads it again (or finds the
      // copy another pull fetched meanwhile). One more try only; its bytes were counted once.
      index.forgetIfVanished(entry);
      StoreEntry again = request(p.volumeId(), req, fetcher).await();
      return materializer.place(again, p.modelDirs(), p.path(), p.privateCopy());
    }
  }

  /** Asks for a layer on behalf of {@code volumeId}: hit, join, or download (Singleflight). */
  Ticket request(String volumeId, LayerRequest req, BlobFetcher fetcher) {
    return flights.request(volumeId, req, fetcher);
  }

  /**
   * Before failing a download for lack of space (ENOSPC, or an extraction beyond the space it
   * had), evict unreferenced entries and try once more.
   */
  private StoreEntry ingestMakingRoom(LayerRequest req, BlobFetcher fetcher,
      java.util.function.Consumer<Path> partial, BooleanSupplier abandoned) throws IOException {
    try {
      return ingester.ingest(req, fetcher, partial, abandoned);
    } catch (IOException e) {
      boolean shortOfSpace = NoSpace.causedBy(e) || (e instanceof ExpansionLimitException x
          && x.bound() == ExpansionLimitException.Bound.SPACE);
      if (!shortOfSpace) {
        throw e;
      }
      int partials = ingester.removeIdlePartials();
      EvictionResult freed = evictor.evict(Long.MAX_VALUE, 0, Set.of());
      if (freed.evicted().isEmpty() && partials == 0) {
        throw e;
      }
      log.warn("out of space ingesting {}; removed {} partial downloads and evicted {} entries "
          + "({} bytes), retrying", req.digest(), partials, freed.evicted().size(),
          freed.bytesFreed());
      return ingester.ingest(req, fetcher, partial, abandoned);
    }
  }

  @Override
  public boolean isStored(LayerKey key) {
    return index.contains(key);
  }

  // ------------------------------------------------------------------ volumes, manifests

  @Override
  public void recordVolume(Path volumeDir, VolumeRecord record) throws IOException {
    volumes.recordVolume(volumeDir, record);
  }

  @Override
  public Optional<String> checkPlaced(Path volumeDir, Path modelDir, String manifestDigest)
      throws IOException {
    return volumes.checkPlaced(volumeDir, modelDir, manifestDigest);
  }

  @Override
  public void releaseVolume(String volumeId) {
    volumes.releaseVolume(volumeId);
  }

  @Override
  public void recordManifest(String reference, String digest, String namedDigest, byte[] raw,
      boolean anonymousReadable) throws IOException {
    manifests.recordManifest(reference, digest, namedDigest, raw, anonymousReadable);
  }

  @Override
  public Optional<RecordedManifest> recordedManifest(String reference) {
    return manifests.recordedManifest(reference);
  }

  // ------------------------------------------------------------------ capacity, operator view

  @Override
  public Path root() {
    return layout.root();
  }

  @Override
  public Set<LayerKey> keys() {
    synchronized (index.lock) {
      Set<LayerKey> keys = new HashSet<>(index.keys());
      keys.addAll(flights.keys());
      return keys;
    }
  }

  @Override
  public long committedBytes() {
    synchronized (index.lock) {
      return index.size() + flights.announcedBytes();
    }
  }

  @Override
  public DiskSpace diskSpace() throws IOException {
    return new DiskSpace(evictor.usableSpace(), evictor.filesystemSize());
  }

  @Override
  public EvictionResult freeUp(long bytes, Set<LayerKey> keep) {
    return evictor.evict(index.size() - bytes, 100, keep);
  }

  @Override
  public List<EntryInfo> entries() {
    return index.infos();
  }

  @Override
  public StoreStats stats() {
    return stats;
  }

  @Override
  public EvictionResult evictIfNeeded() {
    return evictor.evictIfNeeded();
  }

  @Override
  public EvictionResult evictUnreferenced(long budget, int targetPercent) {
    return evictor.evict(budget, targetPercent, Set.of());
  }

  /**
   * The process is stopping (an upgrade, a SIGTERM): downloads cancelled from now on keep what
   * they got for the next process to go on from (decision 1250). Called before the pulls are
   * cancelled.
   */
  public void stopping() {
    ingester.stopping();
  }

  @Override
  public void close() {
    flights.close();
  }
}
