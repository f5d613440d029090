package org.modelpack.csi.admin;

import io.grpc.stub.StreamObserver;
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

/** Lists and evicts layer-store entries for operators (the CLI's {@code store} commands). */
public final class StoreAdminService extends StoreAdminGrpc.StoreAdminImplBase {
  private final StoreInventory store;

  public StoreAdminService(StoreInventory store) {
    this.store = store;
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
}
