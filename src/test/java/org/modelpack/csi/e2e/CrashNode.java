package org.modelpack.csi.e2e;

import static org.awaitility.Awaitility.await;

import csi.v1.Csi.NodePublishVolumeRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.admin.v1.EvictRequest;
import org.modelpack.csi.csi.CsiClient;
import org.modelpack.csi.testing.CsiRequests;

/**
 * One node of the crash suite: a {@code root_dir}, a kubelet-like directory of pod targets and
 * the packaged driver serving them, killed and restarted on the same {@code root_dir} as often
 * as the suite likes. A node that a trial left in a bad state is closed and replaced by a fresh
 * one, so one defect does not leak into the next trial's findings.
 */
final class CrashNode implements AutoCloseable {
  /** How long a publish waits for its pull before answering ABORTED (kubelet then retries). */
  static final int PUBLISH_WAIT_SECONDS = 20;

  private final Path dir;
  private final Path config;
  private final Path socket;
  private final String umask;
  private DriverProcess driver;
  private int starts;

  private CrashNode(Path dir, Path config, Path socket, String umask) {
    this.dir = dir;
    this.config = config;
    this.socket = socket;
    this.umask = umask;
  }

  /**
   * A node in {@code dir} with an empty root_dir. The socket is outside root_dir so that
   * everything in root_dir is the driver's data, checked strictly.
   */
  static CrashNode start(Path dir, Path dockerConfigDir) throws IOException {
    return start(dir, dockerConfigDir, null);
  }

  /** As above, every start of the driver with {@code umask} (octal; null: the test's own). */
  static CrashNode start(Path dir, Path dockerConfigDir, String umask) throws IOException {
    Path root = dir.resolve("root");
    Path socket = dir.resolve("plugin/csi.sock");
    Files.createDirectories(dir.resolve("pods"));
    Path config = Files.writeString(dir.resolve("driver.yaml"), """
        service_name: model.csi.modelpack.org
        root_dir: %s
        csi_endpoint: unix://%s
        pull_config:
          docker_config_dir: %s
          concurrency: 4
          publish_wait_seconds: %d
        """.formatted(root, socket, dockerConfigDir, PUBLISH_WAIT_SECONDS));
    CrashNode node = new CrashNode(dir, config, socket, umask);
    node.launch();
    return node;
  }

  private void launch() throws IOException {
    starts++;
    driver = DriverProcess.start(config, socket, log(), umask);
  }

  /** Starts the driver again on the same root_dir, after {@link #kill()}. */
  void restart() throws IOException {
    if (driver.isAlive()) {
      throw new IllegalStateException("restart of a running driver");
    }
    launch();
  }

  /** SIGKILL to the driver. */
  void kill() throws InterruptedException {
    driver.kill();
  }

  Path dir() {
    return dir;
  }

  Path config() {
    return config;
  }

  Path socket() {
    return socket;
  }

  Path rootDir() {
    return dir.resolve("root");
  }

  /** Log of the last driver started (or tried), and of the one before it. */
  Path log() {
    return dir.resolve("driver-" + starts + ".log");
  }

  Path previousLog() {
    return dir.resolve("driver-" + Math.max(1, starts - 1) + ".log");
  }

  CsiClient csi() {
    return driver.csi();
  }

  /** Where kubelet would ask for {@code volumeId}: one target per volume in this suite. */
  Path target(String volumeId) {
    return dir.resolve("pods").resolve(volumeId).resolve("mount");
  }

  NodePublishVolumeRequest publishRequest(String volumeId, CrashModels.Model model) {
    return CsiRequests.publish(volumeId, target(volumeId), model.reference()).build();
  }

  /** NodePublishVolume as kubelet sends it; blocks until the driver answers. */
  void publish(String volumeId, CrashModels.Model model) {
    csi().node().withDeadlineAfter(PUBLISH_WAIT_SECONDS + 60, TimeUnit.SECONDS)
        .nodePublishVolume(publishRequest(volumeId, model));
  }

  /**
   * Publishes as kubelet does until it gets an answer other than ABORTED ("pull in progress"),
   * and throws that answer unless it is OK.
   */
  void publishUntilDone(String volumeId, CrashModels.Model model) {
    await().atMost(Duration.ofSeconds(PUBLISH_WAIT_SECONDS * 3L))
        .pollInterval(Duration.ofMillis(100)).until(() -> {
          try {
            publish(volumeId, model);
            return true;
          } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.ABORTED) {
              return false;
            }
            throw e;
          }
        });
  }

  void unpublish(String volumeId) {
    csi().node().withDeadlineAfter(60, TimeUnit.SECONDS)
        .nodeUnpublishVolume(CsiRequests.unpublish(volumeId, target(volumeId)));
  }

  /** Evicts every unreferenced layer: the next publish of an unpublished model is cold. */
  void evictUnreferenced() {
    csi().storeAdmin().withDeadlineAfter(60, TimeUnit.SECONDS)
        .evict(EvictRequest.newBuilder().setAllUnreferenced(true).build());
  }

  /** Kills the driver and unmounts whatever is left under this node's directory. */
  @Override
  public void close() throws Exception {
    try {
      if (driver != null) {
        driver.close();
      }
    } finally {
      CsiRequests.unmountAllUnder(dir);
    }
  }
}
