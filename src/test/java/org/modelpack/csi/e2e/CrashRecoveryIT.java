package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.e2e.CrashPhase.Operation;
import org.modelpack.csi.e2e.CrashTrials.Trial;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.CsiRequests;

/**
 * Issue 8, the crash suite: the packaged driver is killed with SIGKILL at random points of
 * pull, ingest, link, record, mount and unpublish, restarted on the same root_dir, and checked:
 * every store entry is what its name says, records match the disk, no partial tree is mounted,
 * no stray mount or temporary file survives the start, and kubelet's retry of the interrupted
 * call converges to a complete model (or, for an unpublish, to nothing).
 *
 * <p>{@code -Dcrash.trials=N} (default 30), {@code -Dcrash.seed=S} to replay a run (with the
 * same trial count), {@code -Dcrash.phases=UNPUBLISH,WARM_PUBLISH} to aim at some phases only,
 * {@code -Dcrash.bandwidth=BYTES} per registry connection (default 24 MiB/s). Every failing
 * trial is reported in one assertion message at the end, and leaves an evidence file (what the
 * kill left on disk, both drivers' logs) under {@code target/crash-suite/}.
 */
class CrashRecoveryIT extends CrashSuiteRegistry {
  private static final long DEFAULT_BANDWIDTH = 24L << 20;
  private static final Path EVIDENCE =
      Path.of(System.getProperty("crash.evidence", "target/crash-suite"));

  private final ExecutorService callers = Executors.newCachedThreadPool();
  private CrashTrials trials;
  private CrashNode node;
  private int nodeCount;

  @AfterEach
  void stopDriverAndUnmount() throws Exception {
    callers.shutdownNow();
    try {
      Closeables.closeAll(node);
    } finally {
      CsiRequests.unmountAllUnder(tmp);
    }
  }

  @Test
  void aDriverKilledAnywhereRestartsIntoCompleteModelsOrNone() throws Exception {
    long seed = Long.getLong("crash.seed", new SecureRandom().nextLong());
    int count = Integer.getInteger("crash.trials", 30);
    List<CrashPhase> phases = System.getProperty("crash.phases") == null
        ? List.of(CrashPhase.values())
        : Arrays.stream(System.getProperty("crash.phases").split(","))
            .map(s -> CrashPhase.valueOf(s.trim())).toList();
    System.out.printf("crash suite: seed %d, %d trials over %s (replay: -Dcrash.seed=%d"
        + " -Dcrash.trials=%d)%n", seed, count, phases, seed, count);
    long started = System.nanoTime();
    deleteOldEvidence();
    trials = new CrashTrials(models, tmp, EVIDENCE, callers, proxy,
        Long.getLong("crash.bandwidth", DEFAULT_BANDWIDTH));
    freshNode();
    Map<Operation, Long> durations = calibrate();

    // Each phase equally often, in a random order: a short run still covers every phase.
    Random random = new Random(seed);
    List<CrashPhase> plan = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      plan.add(phases.get(i % phases.size()));
    }
    Collections.shuffle(plan, random);
    List<Trial> failed = new ArrayList<>();
    Map<CrashPhase, int[]> tally = new EnumMap<>(CrashPhase.class);
    for (int i = 0; i < count; i++) {
      CrashPhase phase = plan.get(i);
      long operation = durations.get(phase.operation);
      long delay = phase.delayMillis(random.nextDouble(), operation);
      String label = String.format("trial %d/%d %s, kill at %d ms (%.2f of %d ms)", i + 1,
          count, phase, delay, delay / (double) operation, operation);
      Trial t = trials.run(phase, delay, label);
      if (t.completedInMillis() >= 0) {
        // The operation is that fast here now (the machine's load moves): aim later kills
        // within what it takes, not beyond.
        durations.merge(phase.operation, Math.max(1, t.completedInMillis()), Math::min);
      }
      System.out.printf("%s: %s; at kill: %s -> %s%n", label, t.calls(), t.atKill(),
          t.findings().isEmpty() ? "recovered" : t.findings().size() + " findings");
      int[] counts = tally.computeIfAbsent(phase, p -> new int[3]);
      counts[0]++;
      counts[2] += t.calls().contains(" OK ") ? 1 : 0;
      if (!t.findings().isEmpty()) {
        counts[1]++;
        failed.add(t);
        long since = System.nanoTime();
        freshNode(); // a defect found must not leak into the next trial's findings
        trials.lap("fresh node", since);
      }
    }
    System.out.printf("crash suite: %d trials in %d s, seed %d; per trial %s%n", count,
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), seed,
        trials.stageMillis.entrySet().stream()
            .map(e -> e.getKey() + " " + e.getValue() / count + " ms").toList());
    System.out.println("crash suite: operations took at least " + durations + " ms");
    tally.forEach((p, c) -> System.out.printf("  %-22s %2d trials, %2d failing, %2d with a"
        + " call done before the kill%n", p, c[0], c[1], c[2]));
    if (!failed.isEmpty()) {
      StringBuilder b = new StringBuilder().append(failed.size()).append(" of ").append(count)
          .append(" trials found the driver not recovered (replay with -Dcrash.seed=")
          .append(seed).append(" -Dcrash.trials=").append(count).append("):\n");
      for (Trial t : failed) {
        b.append(t.label()).append("\n  calls: ").append(t.calls()).append("\n  at kill: ")
            .append(t.atKill()).append('\n');
        t.findings().forEach(f -> b.append("  - ").append(f).append('\n'));
      }
      fail(b.toString());
    }
  }

  /**
   * Times each operation on this machine, so trials can aim their kills at fractions of it:
   * the faster of two rounds, as a trial's calls run on a driver that has made the same calls
   * before (the first round's JVM has not).
   */
  private Map<Operation, Long> calibrate() throws Exception {
    Map<Operation, Long> total = new EnumMap<>(Operation.class);
    for (int round = 0; round < 2; round++) {
      node.evictUnreferenced();
      total.merge(Operation.COLD, trials.timed(CrashPhase.calls(Operation.COLD)), Math::min);
      total.merge(Operation.UNPUBLISH, trials.timed(CrashPhase.calls(Operation.UNPUBLISH)),
          Math::min);
      node.publish(CrashPhase.A, models.big);
      total.merge(Operation.WARM, trials.timed(CrashPhase.calls(Operation.WARM)), Math::min);
      requireClean(trials.unpublishAll());
      node.evictUnreferenced();
      total.merge(Operation.CONCURRENT, trials.timed(CrashPhase.calls(Operation.CONCURRENT)),
          Math::min);
      requireClean(trials.unpublishAll());
    }
    total.replaceAll((op, ms) -> Math.max(1, ms));
    System.out.println("crash suite: operations take " + total + " ms here");
    return total;
  }

  private static void requireClean(List<String> findings) {
    if (!findings.isEmpty()) {
      throw new AssertionError("calibration left " + findings);
    }
  }

  /** Replaces the node by one with an empty root_dir and the bystander published. */
  private void freshNode() throws Exception {
    Closeables.closeAll(node);
    node = null;
    node = CrashNode.start(tmp.resolve("node-" + ++nodeCount), tmp.resolve("docker"));
    trials.use(node);
  }

  private static void deleteOldEvidence() throws Exception {
    for (Path p : StoreChecks.list(EVIDENCE)) {
      if (p.getFileName().toString().startsWith("trial-")) {
        Files.delete(p);
      }
    }
  }
}
