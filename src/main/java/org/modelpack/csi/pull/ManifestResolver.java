package org.modelpack.csi.pull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.MirroredRegistry;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistryException;
import org.modelpack.csi.registry.ResolvedManifest;
import org.modelpack.csi.store.RecordedManifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a volume's reference into a plan: from a mirror, the registry, or (while the registry
 * is away) the manifest the reference resolved to at its last pull on this node.
 */
final class ManifestResolver {
  private static final Logger log = LoggerFactory.getLogger(ManifestResolver.class);

  /** A plan, and the digest the reference named when it was resolved (an index's, maybe). */
  record Resolution(PullPlan plan, String namedDigest) {}

  private final MirroredRegistry registry;
  private final PlanCache plans;

  ManifestResolver(MirroredRegistry registry, PlanCache plans) {
    this.registry = registry;
    this.plans = plans;
  }

  /** Resolves the volume's reference and logs what it found. */
  Resolution resolve(VolumePull v, Optional<RecordedManifest> recorded) {
    long started = System.nanoTime();
    Resolution resolved = resolve(v.reference(), v.filter(), recorded);
    PullPlan plan = resolved.plan();
    log.info("volume {}: pulling {} ({} layers, {} bytes, manifest {}{}; resolved in {} ms)",
        v.volumeId(), v.reference(), plan.layers().size(), plan.totalBytes(),
        plan.manifestDigest(), plan.filter().enabled() ? "; " + plan.excludedLayers()
            + " layers left out by " + plan.filter() : "",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    return resolved;
  }

  /**
   * Fetches the manifest and plans the layers {@code filter} keeps. When the registry cannot be
   * reached, the manifest this reference resolved to at its last successful pull on this node
   * ({@code recorded}) is used instead, so a model whose layers are all in the store still
   * mounts. With a record to fall back on, the registry gets one attempt (no backoff first): an
   * unreachable registry then costs nothing. Only a model its registry served without
   * credentials is served from the record: a volume's credentials cannot be checked while the
   * registry is away.
   */
  private Resolution resolve(Reference reference, LayerFilter filter,
      Optional<RecordedManifest> recorded) {
    try {
      Optional<ResolvedManifest> viaMirror = registry.fromMirrors(reference, "manifest",
          RegistryClient::fetchManifest);
      if (viaMirror.isPresent()) {
        ResolvedManifest m = viaMirror.get();
        return new Resolution(plans.plan(new ResolvedManifest(reference.withDigest(m.digest()),
            m.digest(), m.manifest(), m.raw()), filter), m.namedDigest());
      }
      // One attempt only when the record could really stand in for the registry.
      RegistryClient c = recorded.isPresent() && recorded.get().anonymousReadable()
          ? registry.oneAttempt() : registry.client();
      if (recorded.isPresent()) {
        Optional<PullPlan> unchanged = unchangedSinceRecorded(reference, recorded.get(),
            filter);
        if (unchanged.isPresent()) {
          return new Resolution(unchanged.get(), recorded.get().namedDigest());
        }
      }
      ResolvedManifest fetched = c.fetchManifest(reference);
      return new Resolution(plans.plan(fetched, filter), fetched.namedDigest());
    } catch (RegistryException e) {
      if (e.kind() == RegistryException.Kind.UNAVAILABLE && recorded.isPresent()) {
        if (!recorded.get().anonymousReadable()) {
          throw new DriverException(ErrorKind.UNAVAILABLE, "model " + reference + ": "
              + e.getMessage() + "; its repository needs credentials, which cannot be checked "
              + "while the registry is unreachable, so the copy on this node is not used", e);
        }
        Optional<PullPlan> offline = recordedPlan(recorded.get(), reference, filter);
        if (offline.isPresent()) {
          log.warn("registry unreachable for {} ({}); using the manifest {} recorded at the last "
              + "pull", reference, e.getMessage(), offline.get().manifestDigest());
          return new Resolution(offline.get(), recorded.get().namedDigest());
        }
      }
      throw Failures.classify("model " + reference, e);
    } catch (Exception e) {
      throw Failures.classify("model " + reference, e);
    }
  }

  /**
   * The recorded plan when a HEAD request says the reference still names the recorded manifest
   * (whose bytes were verified when they were recorded). Empty when it names another one, the
   * registry gives no digest, or the HEAD fails in any way: it is only a shortcut, so it gets
   * one attempt and every failure is left to the full fetch that follows, with its own retries,
   * error body and offline rule.
   */
  private Optional<PullPlan> unchangedSinceRecorded(Reference reference,
      RecordedManifest recorded, LayerFilter filter) {
    try {
      if (registry.oneAttempt().headManifestDigest(reference)
          .filter(recorded.namedDigest()::equals).isEmpty()) {
        return Optional.empty();
      }
    } catch (RegistryException e) {
      log.debug("HEAD of {} failed ({}); fetching the manifest", reference, e.getMessage());
      return Optional.empty();
    }
    return recordedPlan(recorded, reference, filter);
  }

  /** The plan of the manifest {@code reference} resolved to at its last pull, if still usable. */
  Optional<PullPlan> recordedPlan(RecordedManifest recorded, Reference reference,
      LayerFilter filter) {
    Reference pinned = reference.withDigest(recorded.digest());
    try {
      return Optional.of(plans.plan(pinned, recorded.digest(), filter, () -> {
        try {
          return new ResolvedManifest(pinned, recorded.digest(),
              Manifest.parse(recorded.raw()), recorded.raw());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
    } catch (RuntimeException e) {
      log.warn("recorded manifest of {} is unusable: {}", reference, e.getMessage());
      return Optional.empty();
    }
  }
}
