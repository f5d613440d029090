package org.modelpack.csi.e2e;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.modelpack.csi.e2e.CrashPhase.Call;
import org.modelpack.csi.testing.FaultProxy;

/**
 * Runs trials on a {@link CrashNode}: set up, call, kill, restart, check, call again as kubelet
 * would, check again, unpublish everything. Keeps what the test believes is published, which is
 * what the checks compare the node with.
 */
final class CrashTrials {
  private static final Pattern OK_AFTER = Pattern.compile(" OK after (\\d+) ms");
  private static final Set<String> VOLUME_IDS =
      Set.of(CrashPhase.A, CrashPhase.B, CrashPhase.BYSTANDER);

  /**
   * Outcome of one trial; {@code findings} empty when the driver recovered completely.
   * {@code completedInMillis}: how long the calls took when all of them finished before the
   * kill, else -1.
   */
  record Trial(String label, String calls, String atKill, List<String> findings,
      long completedInMillis) {}

  private final CrashModels models;
  private final Path scope;
  private final Path evidenceDir;
  private final ExecutorService callers;
  private final FaultProxy registryProxy;
  private final long bandwidth;
  private final Map<String, CrashModels.Model> published = new LinkedHashMap<>();
  /** Where the run's time goes, per stage of a trial. */
  final Map<String, Long> stageMillis = new LinkedHashMap<>();
  private CrashNode node;

  /**
   * {@code scope}: the test's directory, where no mount but the known targets may be; {@code
   * registryProxy}: what the models are pulled through, throttled to {@code bandwidth} bytes/s
   * per connection while the calls a kill interrupts run (so their download spans a time a
   * kill can land in), and not otherwise (set-ups and retries need no aim, only speed).
   */
  CrashTrials(CrashModels models, Path scope, Path evidenceDir, ExecutorService callers,
      FaultProxy registryProxy, long bandwidth) {
    this.models = models;
    this.scope = scope;
    this.evidenceDir = evidenceDir;
    this.callers = callers;
    this.registryProxy = registryProxy;
    this.bandwidth = bandwidth;
  }

  /** Trials from now on run on {@code fresh}, where the bystander gets published first. */
  void use(CrashNode fresh) {
    node = fresh;
    published.clear();
    node.publish(CrashPhase.BYSTANDER, models.bystander);
    published.put(CrashPhase.BYSTANDER, models.bystander);
  }

  /** One kill at {@code delay} ms into the phase's calls, and everything after it. */
  Trial run(CrashPhase phase, long delay, String label) throws Exception {
    List<String> findings = new ArrayList<>();
    List<Call> calls = phase.calls();
    String outcomes = "not started";
    String atKill = "no kill";
    String listing = "";
    long completedIn = -1;
    long t = System.nanoTime();
    try {
      if (phase.coldStore) {
        node.evictUnreferenced();
      }
      for (Call c : phase.before()) {
        node.publish(c.volumeId(), c.model().apply(models));
        published.put(c.volumeId(), c.model().apply(models));
      }
      t = lap("setup", t);
      Map<Path, VolumeChecks.Target> inFlight = new HashMap<>();
      List<Future<String>> running = new ArrayList<>();
      registryProxy.bandwidthLimit(bandwidth);
      long start = System.nanoTime();
      for (Call c : calls) {
        published.remove(c.volumeId()); // neither published nor gone until the retry says so
        inFlight.put(node.target(c.volumeId()),
            new VolumeChecks.Target(c.volumeId(), c.model().apply(models), false));
        running.add(callers.submit(() -> call(c, start)));
      }
      Thread.sleep(delay); // WHEN to kill is the random point of the test, not a wait
      node.kill();
      registryProxy.bandwidthLimit(0);
      List<String> done = new ArrayList<>();
      for (int i = 0; i < calls.size(); i++) {
        done.add(calls.get(i) + " " + running.get(i).get(60, TimeUnit.SECONDS));
      }
      outcomes = String.join(", ", done);
      completedIn = completedIn(done);
      for (String o : done) {
        if (!o.contains(" OK ") && !o.contains(" UNAVAILABLE ")) {
          findings.add("a call failed before the kill: " + o);
        }
      }
      atKill = TrialEvidence.atKill(node, models, calls);
      listing = TrialEvidence.listing(node.rootDir());
      t = lap("call and kill", t);
      node.restart();
      t = lap("restart", t);
      prefixed(findings, "after restart: ", checks(inFlight));
      t = lap("checks", t);
      converge(phase.retries(), findings);
      t = lap("retries", t);
      prefixed(findings, "after the retries: ", checks(Map.of()));
      t = lap("checks", t);
      prefixed(findings, "unpublishing everything: ", unpublishAll());
      lap("clean-up", t);
    } catch (Exception | AssertionError e) {
      findings.add("trial aborted by " + e);
    } finally {
      registryProxy.bandwidthLimit(0);
    }
    if (!findings.isEmpty()) {
      Path file = evidenceDir.resolve(
          label.replaceAll("trial (\\d+)/\\d+ (\\w+).*", "trial-$1-$2.txt"));
      TrialEvidence.write(file, label + "\ncalls: " + outcomes + "\nat kill: " + atKill + "\n"
          + String.join("\n", findings), listing, node.previousLog(), node.log());
      findings.add("evidence: " + file);
    }
    return new Trial(label, outcomes, atKill, findings, completedIn);
  }

  /** The slowest call's duration when every call answered OK, else -1. */
  private static long completedIn(List<String> outcomes) {
    long slowest = 0;
    for (String o : outcomes) {
      Matcher m = OK_AFTER.matcher(o);
      if (!m.find()) {
        return -1;
      }
      slowest = Math.max(slowest, Long.parseLong(m.group(1)));
    }
    return slowest;
  }

  /** One CSI call as kubelet makes it; returns its outcome and when it ended. */
  String call(Call c, long start) {
    try {
      if (c.publish()) {
        node.publish(c.volumeId(), c.model().apply(models));
      } else {
        node.unpublish(c.volumeId());
      }
      return "OK after " + millisSince(start) + " ms";
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode() + " after " + millisSince(start) + " ms"
          + (e.getStatus().getCode() == Status.Code.UNAVAILABLE ? "" : ": " + e.getMessage());
    }
  }

  /**
   * The calls after the restart (kubelet's retries): a publish is repeated while it answers
   * ABORTED and must then succeed (the checks after it see what it mounted); an unpublish must
   * succeed and leave no mount and no volume.
   */
  private void converge(List<Call> calls, List<String> findings) throws Exception {
    for (Call c : calls) {
      CrashModels.Model model = c.model().apply(models);
      try {
        if (c.publish()) {
          node.publishUntilDone(c.volumeId(), model);
          published.put(c.volumeId(), model);
        } else {
          node.unpublish(c.volumeId());
          if (!MountPoints.at(node.target(c.volumeId())).isEmpty()) {
            findings.add("retried unpublish of " + c.volumeId() + " left its target mounted");
          }
          Path dir = node.rootDir().resolve("volumes").resolve(c.volumeId());
          if (Files.exists(dir)) {
            findings.add("retried unpublish of " + c.volumeId() + " left volumes/"
                + c.volumeId() + " (" + ModelTreeDiff.countFiles(dir.resolve("model"))
                + " model files)");
          }
        }
      } catch (StatusRuntimeException e) {
        findings.add("retried " + c + " answers " + e.getStatus().getCode() + ": "
            + e.getStatus().getDescription());
      } catch (ConditionTimeoutException e) {
        findings.add("retried " + c + " still answers ABORTED after "
            + CrashNode.PUBLISH_WAIT_SECONDS * 3 + " s");
      }
    }
  }

  /**
   * Every invariant of a served root_dir. {@code inFlight}: targets of the interrupted calls,
   * which may or may not be mounted; every other published target must be.
   */
  private List<String> checks(Map<Path, VolumeChecks.Target> inFlight) throws Exception {
    Map<Path, VolumeChecks.Target> targets = new HashMap<>(inFlight);
    published.forEach((id, m) -> targets.put(node.target(id),
        new VolumeChecks.Target(id, m, true)));
    Path root = node.rootDir();
    List<String> findings = new ArrayList<>();
    findings.addAll(StoreChecks.check(root.resolve("store"), models.allLayers()));
    findings.addAll(LeftoverChecks.check(root, VOLUME_IDS));
    findings.addAll(VolumeChecks.volumeDirs(root, models));
    findings.addAll(VolumeChecks.mounts(scope, targets));
    return findings;
  }

  /** Back to the state every trial starts from: only the bystander published. */
  List<String> unpublishAll() throws Exception {
    List<String> findings = new ArrayList<>();
    for (String id : List.of(CrashPhase.A, CrashPhase.B)) {
      try {
        node.unpublish(id);
      } catch (StatusRuntimeException e) {
        findings.add("unpublish of " + id + " answers " + e.getStatus());
      }
      published.remove(id);
    }
    List<String> left = StoreChecks.list(node.rootDir().resolve("volumes")).stream()
        .map(p -> p.getFileName().toString()).filter(n -> !n.equals(CrashPhase.BYSTANDER))
        .toList();
    if (!left.isEmpty()) {
      findings.add("volumes left after every unpublish: " + left);
    }
    findings.addAll(VolumeChecks.mounts(scope, Map.of(node.target(CrashPhase.BYSTANDER),
        new VolumeChecks.Target(CrashPhase.BYSTANDER, models.bystander, true))));
    return findings;
  }

  /** Runs the calls together, uninterrupted; returns how long the slowest took. */
  long timed(List<Call> calls) throws Exception {
    registryProxy.bandwidthLimit(bandwidth);
    try {
      long start = System.nanoTime();
      List<Future<String>> running = new ArrayList<>();
      for (Call c : calls) {
        running.add(callers.submit(() -> call(c, start)));
      }
      for (Future<String> f : running) {
        String outcome = f.get(120, TimeUnit.SECONDS);
        if (!outcome.startsWith("OK")) {
          throw new AssertionError(calls + " " + outcome);
        }
      }
      return millisSince(start);
    } finally {
      registryProxy.bandwidthLimit(0);
    }
  }

  long lap(String stage, long since) {
    long now = System.nanoTime();
    stageMillis.merge(stage, TimeUnit.NANOSECONDS.toMillis(now - since), Long::sum);
    return now;
  }

  private static void prefixed(List<String> into, String prefix, List<String> findings) {
    findings.forEach(f -> into.add(prefix + f));
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }
}
