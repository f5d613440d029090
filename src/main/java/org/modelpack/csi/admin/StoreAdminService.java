package org.modelpack.csi.admin;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import org.modelpack.csi.admin.v1.PullProgress;
import org.modelpack.csi.admin.v1.PullRequest;
import org.modelpack.csi.csi.GrpcErrors;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.pull.LayerFilter;
import org.modelpack.csi.pull.PullPlan;
import org.modelpack.csi.volume.Prefetch;
import org.modelpack.csi.volume.Prefetcher;
import org.modelpack.csi.admin.v1.EvictRequest;
import org.modelpack.csi.admin.v1.EvictResponse;
import org.modelpack.csi.admin.v1.ListEntriesRequest;
import org.modelpack.csi.admin.v1.ListEntriesResponse;
import org.modelpack.csi.admin.v1.StoreAdminGrpc;
import org.modelpack.csi.admin.v1.StoreCounters;
import org.modelpack.csi.admin.v1.StoreEntryInfo;
import org.modelpack.csi.store.EntryInfo;
import org.modelpack.csi.store.EvictionResult;
import org.modelpack.csi.store.StoreInventory;
import org.modelpack.csi.store.StoreStats;

/**
 * Lists, evicts and prefetches layer-store entries for operators (the CLI's {@code store}
 * commands).
 */
public final class StoreAdminService extends StoreAdminGrpc.StoreAdminImplBase {
  /** How often a Pull call reports progress. */
  static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(1);

  private final StoreInventory store;
  private final Prefetcher prefetcher;

  public StoreAdminService(StoreInventory store, Prefetcher prefetcher) {
    this.store = store;
    this.prefetcher = prefetcher;
  }

  @Override
  public void listEntries(ListEntriesRequest request,
      StreamObserver<ListEntriesResponse> observer) {
    ListEntriesResponse.Builder b = ListEntriesResponse.newBuilder()
        .setStoreDir(store.root().toString());
    long total = 0;
    for (EntryInfo e : store.entries()) {
      total += e.size();
      b.addEntries(StoreEntryInfo.newBuilder()
          .setDigest(e.key().digest())
          .setKind(e.key().kind().name().toLowerCase())
          .setSizeBytes(e.size())
          .addAllVolumes(e.volumes().stream().sorted().toList())
          .setLastUsedUnixMillis(e.lastUsed() == null ? 0 : e.lastUsed().toEpochMilli()));
    }
    StoreStats.Snapshot s = store.stats().snapshot();
    b.setTotalSizeBytes(total).setCounters(StoreCounters.newBuilder()
        .setHits(s.hits()).setJoins(s.joins()).setMisses(s.misses())
        .setBytesDownloaded(s.bytesDownloaded()).setBytesSavedByDedup(s.bytesSavedByDedup())
        .setEvictions(s.evictions()).setBytesEvicted(s.bytesEvicted()));
    observer.onNext(b.build());
    observer.onCompleted();
  }

  @Override
  public void evict(EvictRequest request, StreamObserver<EvictResponse> observer) {
    EvictionResult r;
    if (request.getAllUnreferenced()) {
      r = store.evictUnreferenced(0, 0);
    } else if (request.getTargetSizeBytes() > 0) {
      r = store.evictUnreferenced(request.getTargetSizeBytes(), 100);
    } else {
      r = store.evictIfNeeded();
    }
    observer.onNext(EvictResponse.newBuilder().setBytesFreed(r.bytesFreed())
        .addAllEvicted(r.evicted().stream().map(Object::toString).toList()).build());
    observer.onCompleted();
  }

  /**
   * Starts or joins the prefetch, then reports on it until it ends or the caller goes away. The
   * prefetch runs on its own thread: the call only watches it.
   */
  @Override
  public void pull(PullRequest request, StreamObserver<PullProgress> observer) {
    ServerCallStreamObserver<PullProgress> call =
        (ServerCallStreamObserver<PullProgress>) observer;
    Prefetcher.Joined joined;
    try {
      joined = prefetcher.pull(request.getReference(), filter(request));
    } catch (RuntimeException e) {
      observer.onError(GrpcErrors.toStatus(e).asRuntimeException());
      return;
    }
    Prefetch p = joined.prefetch();
    try {
      observer.onNext(progress(p, joined.joined()).build());
      while (!p.await(PROGRESS_INTERVAL)) {
        if (call.isCancelled()) {
          return; // the prefetch goes on; a later Pull joins it
        }
        observer.onNext(progress(p, joined.joined()).build());
      }
      PullPlan plan = p.outcome();
      observer.onNext(progress(p, joined.joined()).setDone(true)
          .setManifestDigest(plan.manifestDigest()).setLayers(plan.layers().size())
          .setTotalBytes(plan.totalBytes()).setDoneBytes(plan.totalBytes()).build());
      observer.onCompleted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      observer.onError(GrpcErrors.toStatus(new DriverException(ErrorKind.ABORTED,
          "the driver is stopping; prefetch of " + p.reference() + " was left")).asRuntimeException());
    } catch (RuntimeException e) {
      if (!call.isCancelled()) {
        observer.onError(GrpcErrors.toStatus(e).asRuntimeException());
      }
    }
  }

  private static LayerFilter filter(PullRequest request) {
    try {
      return new LayerFilter(request.getExcludeModelWeights(),
          request.getExcludeFilePatternsList());
    } catch (IllegalArgumentException e) {
      throw new DriverException(ErrorKind.INVALID_ARGUMENT, "exclude_file_patterns "
          + request.getExcludeFilePatternsList() + " are invalid: " + e.getMessage(), e);
    }
  }

  private static PullProgress.Builder progress(Prefetch p, boolean joined) {
    PullProgress.Builder b = PullProgress.newBuilder().setReference(p.reference())
        .setJoined(joined).setTotalBytes(p.progress().totalBytes())
        .setDoneBytes(p.progress().doneBytes()).setLayersOnNode(-1);
    p.progress().plan().ifPresent(s -> b.setLayers(s.layers())
        .setLayersOnNode(s.storedLayers()));
    return b;
  }
}
