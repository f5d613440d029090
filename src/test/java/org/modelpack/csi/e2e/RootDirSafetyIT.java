package org.modelpack.csi.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.testing.Closeables;
import org.modelpack.csi.testing.CsiRequests;

/**
 * The crash suite's companions: what a restart may and may not do to a root_dir. A restart
 * after SIGKILL cleans up after the dead process (CrashRecoveryIT), including what a kill
 * leaves in windows too narrow for random kills to hit; a second process started while the
 * first still runs (a DaemonSet pod replaced before the old one is gone) must not, or it
 * deletes the running one's pulls as if they were a dead one's. And the directories a start
 * creates or re-creates must not depend on the umask the driver inherits.
 */
class RootDirSafetyIT extends CrashSuiteRegistry {
  /** Slow enough that a pull of the big model lasts seconds: the second driver starts in it. */
  private static final long SLOW = 2L << 20;

  private final ExecutorService callers = Executors.newCachedThreadPool();
  private CrashNode node;
  private Process second;

  @AfterEach
  void stopDriversAndUnmount() throws Exception {
    callers.shutdownNow();
    proxy.bandwidthLimit(0);
    try {
      if (second != null) {
        second.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
      Closeables.closeAll(node);
    } finally {
      CsiRequests.unmountAllUnder(tmp);
    }
  }

  @Test
  void aSecondDriverOnARootDirInUseRefusesToStartAndLeavesTheRunningPullAlone()
      throws Exception {
    node = CrashNode.start(tmp.resolve("node-shared"), tmp.resolve("docker"));
    proxy.bandwidthLimit(SLOW);
    Future<String> publish = callers.submit(() -> outcome(() ->
        node.publish(CrashPhase.A, models.big)));
    awaitPullUnderway();

    // Same config, as a replacement pod of the DaemonSet would have it.
    Path secondLog = node.dir().resolve("second-driver.log");
    second = DriverProcess.launch(node.config(), secondLog, null);
    // "CSI server listening" is what the driver logs once it serves.
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> !second.isAlive() || Files.readString(secondLog).contains("listening"));
    List<String> findings = new ArrayList<>();
    if (second.isAlive()) {
      findings.add("a second driver started serving on the root_dir the first one uses:\n"
          + Files.readString(secondLog));
    } else if (second.exitValue() == 0) {
      findings.add("the second driver exited with status 0, as if nothing were wrong");
    } else if (!Files.readString(secondLog).contains("another model-csi-driver (pid ")
        || Files.readString(secondLog).contains("\tat ")) {
      findings.add("the second driver did not say in one line who holds the root_dir:\n"
          + Files.readString(secondLog));
    }

    proxy.bandwidthLimit(0);
    String answer = publish.get(CrashNode.PUBLISH_WAIT_SECONDS + 60, TimeUnit.SECONDS);
    if (!answer.equals("OK")) {
      findings.add("the running driver's publish of " + CrashPhase.A + " answered " + answer);
    } else {
      String diff = ModelTreeDiff.diff(node.target(CrashPhase.A), models.big.files());
      if (diff != null) {
        findings.add("the running driver's target serves a partial tree: " + diff);
      }
    }
    second.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    try (CsiClient fresh = new CsiClient(node.socket())) {
      fresh.identity().withDeadlineAfter(5, TimeUnit.SECONDS)
          .probe(csi.v1.Csi.ProbeRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      findings.add("kubelet can no longer reach the running driver at its socket: "
          + e.getStatus().getCode() + " " + e.getStatus().getDescription());
    }
    assertThat(findings).as("second driver on a root_dir in use").isEmpty();
  }

  @Test
  void underUmask000NothingInRootDirIsWritableByOthersAlsoAfterARestart() throws Exception {
    node = CrashNode.start(tmp.resolve("node-umask"), tmp.resolve("docker"), "000");
    node.publish(CrashPhase.BYSTANDER, models.bystander);
    proxy.bandwidthLimit(SLOW);
    Future<String> publish = callers.submit(() -> outcome(() ->
        node.publish(CrashPhase.A, models.big)));
    awaitPullUnderway();
    node.kill();
    proxy.bandwidthLimit(0);
    publish.get(60, TimeUnit.SECONDS);
    node.restart(); // re-creates what a start creates, again under umask 000
    node.publishUntilDone(CrashPhase.A, models.big);

    assertThat(LeftoverChecks.writableByOthers(node.rootDir()))
        .as("paths under root_dir that group or others may write (driver run with umask 000)")
        .isEmpty();
    // What a pod sees through its mount is the model directory's own mode; the rest is the
    // driver's alone (models pulled with credentials are nobody else's to read).
    Path root = node.rootDir();
    for (String dir : List.of("store", "store/blobs", "store/blobs/sha256", "store/trees",
        "store/ingest", "store/refs", "store/manifests", "store/quarantine", "volumes",
        "volumes/" + CrashPhase.A, "staging")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(dir))))
          .as(dir).isEqualTo("rwx------");
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        root.resolve("volumes").resolve(CrashPhase.A).resolve("model")))).isEqualTo("rwxr-xr-x");
  }

  @Test
  void aRestartRemovesTheTemporaryFilesAKillInsideAnAtomicWriteLeaves() throws Exception {
    node = CrashNode.start(tmp.resolve("node-temps"), tmp.resolve("docker"));
    node.publish(CrashPhase.A, models.big); // MOUNTED and in use: kept across the restart
    node.kill();
    // What FileTrees.writeAtomically leaves when the process dies between creating its
    // temporary file and renaming it over the real one: "." + name + random + ".tmp" beside
    // it. The suite's random kills reach these windows (a few ms, once per pull or mount) too
    // rarely to prove their cleanup, so the files are made here the way the driver makes them.
    Path root = node.rootDir();
    Path trees = root.resolve("store/trees/sha256");
    Path manifests = root.resolve("store/manifests/sha256");
    Path refs = root.resolve("store/refs");
    List<Path> left = List.of(
        partialWrite(root.resolve("volumes").resolve(CrashPhase.A), "status.json"),
        partialWrite(trees, firstName(trees, ".json")),
        partialWrite(manifests, firstName(manifests, "")),
        partialWrite(refs, firstName(refs, ".json")));
    node.restart();

    List<String> survivors = new ArrayList<>();
    for (Path p : left) {
      if (Files.exists(p)) {
        survivors.add(root.relativize(p).toString());
      }
    }
    assertThat(survivors).as("temporary files of interrupted atomic writes after a restart")
        .isEmpty();
  }

  private static Path partialWrite(Path dir, String name) throws Exception {
    Path temp = Files.createTempFile(dir, "." + name, ".tmp");
    Files.writeString(temp, "{\"cut short");
    return temp;
  }

  /** The first entry of {@code dir} whose name ends with {@code suffix}. */
  private static String firstName(Path dir, String suffix) throws Exception {
    return StoreChecks.list(dir).stream().map(p -> p.getFileName().toString())
        .filter(n -> n.endsWith(suffix) && !n.startsWith(".")).findFirst().orElseThrow();
  }

  /**
   * Waits for a state, not a time: the publish of crash-a has its volume directory and
   * downloads in progress in the store's ingest directory.
   */
  private void awaitPullUnderway() {
    Path root = node.rootDir();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() ->
        Files.isDirectory(root.resolve("volumes").resolve(CrashPhase.A).resolve("model"))
            && !StoreChecks.list(root.resolve("store/ingest")).isEmpty());
  }

  private static String outcome(Runnable call) {
    try {
      call.run();
      return "OK";
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    }
  }
}
