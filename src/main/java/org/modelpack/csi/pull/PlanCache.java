package org.modelpack.csi.pull;

import java.util.Optional;
import java.util.function.Supplier;
import org.modelpack.csi.concurrent.LruCache;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.ResolvedManifest;

/**
 * Remembers recent layer plans. A plan depends only on the reference, the (verified) manifest
 * digest and the filter, so a model published again plans nothing: parsing every layer's
 * annotations and checking every path is most of a warm pull's own work. Failed plans are not
 * kept. Shared by every puller of the node (pods with their own credentials included).
 */
final class PlanCache {
  private record Key(String reference, String manifestDigest, LayerFilter filter) {}

  private final PullPlanner planner = new PullPlanner();
  private final LruCache<Key, PullPlan> plans = new LruCache<>(64);

  PullPlan plan(ResolvedManifest resolved, LayerFilter filter) {
    return plan(resolved.reference(), resolved.digest(), filter, () -> resolved);
  }

  /**
   * As above for {@code reference} pinned to {@code manifestDigest}; {@code manifest} (parsed
   * only when the plan is not known) must have that digest.
   */
  PullPlan plan(Reference reference, String manifestDigest, LayerFilter filter,
      Supplier<ResolvedManifest> manifest) {
    Key key = new Key(reference.toString(), manifestDigest, filter);
    Optional<PullPlan> known = plans.get(key);
    if (known.isPresent()) {
      return known.get();
    }
    PullPlan plan = planner.plan(manifest.get(), filter);
    plans.put(key, plan);
    return plan;
  }
}
