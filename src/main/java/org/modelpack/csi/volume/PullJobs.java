package org.modelpack.csi.volume;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.error.DriverException;
import org.modelpack.csi.error.ErrorKind;

/**
 * The volumes' background pulls, at most one a volume, and the threads they run on. A pull is
 * registered from its start until a call collects its outcome or gives up on it, so that
 * kubelet's retries find and join it.
 */
final class PullJobs implements AutoCloseable {
  private final ConcurrentHashMap<String, PullJob> jobs = new ConcurrentHashMap<>();
  private final ExecutorService threads = Executors.newCachedThreadPool(
      DaemonThreads.named("volume-pull"));
  private final Clock clock;

  PullJobs(Clock clock) {
    this.clock = clock;
  }

  /** The volume's pull (running, or done and not collected yet), or null when it has none. */
  PullJob get(String volumeId) {
    return jobs.get(volumeId);
  }

  boolean has(String volumeId) {
    return jobs.containsKey(volumeId);
  }

  /**
   * Joins the volume's pull on behalf of the request's target; empty when the volume has none.
   *
   * @throws DriverException ALREADY_EXISTS when the pull is of other content than requested
   */
  Optional<PullJob> join(PublishRequest req) {
    PullJob job = jobs.get(req.volumeId());
    if (job == null) {
      return Optional.empty();
    }
    if (!job.reference.equals(req.reference()) || !job.filter.equals(req.filter())) {
      throw new DriverException(ErrorKind.ALREADY_EXISTS, "volume " + req.volumeId()
          + " is pulling reference " + job.reference + " (" + job.filter + "), not "
          + req.reference() + " (" + req.filter() + ")");
    }
    job.touch(req.targetPath().toString());
    return Optional.of(job);
  }

  /** Registers a pull for the request, asked for at its target, and runs {@code body} for it. */
  PullJob start(PublishRequest req, Consumer<PullJob> body) {
    PullJob job = new PullJob(req.volumeId(), req.reference(), req.filter(), clock);
    job.touch(req.targetPath().toString());
    jobs.put(req.volumeId(), job);
    job.started(threads.submit(() -> body.accept(job)));
    return job;
  }

  /** How many registered pulls have not ended yet. */
  int running() {
    return (int) jobs.values().stream().filter(job -> !job.isDone()).count();
  }

  /** Forgets the pull; false when it is no longer its volume's (someone forgot it first). */
  boolean remove(PullJob job) {
    return jobs.remove(job.volumeId, job);
  }

  /** The pulls nobody has asked about for longer than {@code timeout}. */
  List<PullJob> unaskedFor(Duration timeout) {
    return jobs.values().stream().filter(job -> job.unaskedFor(timeout)).toList();
  }

  /** Cancels every pull at once, then waits for each to clean up. */
  @Override
  public void close() {
    List<PullJob> running = List.copyOf(jobs.values());
    running.forEach(PullJob::cancel);
    running.forEach(PullJob::cancelAndWait);
    threads.shutdownNow();
  }
}
