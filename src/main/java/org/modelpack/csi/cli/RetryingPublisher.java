package org.modelpack.csi.cli;

import csi.v1.Csi.NodePublishVolumeRequest;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.modelpack.csi.admin.v1.GetVolumeRequest;
import org.modelpack.csi.admin.v1.GetVolumeResponse;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.csi.CsiClient;

/**
 * Publishes as kubelet does: the driver answers ABORTED while the volume's pull runs longer than
 * its {@code publish_wait_seconds}, and the call is repeated (joining the same pull) until it
 * mounts or the deadline passes. Meanwhile the pull's progress is asked for (GetVolume) and
 * shown.
 */
final class RetryingPublisher {
  /** How often progress is asked for, and the pause before repeating an ABORTED call. */
  static final Duration POLL = Duration.ofSeconds(1);
  private static final long DESCRIBE_TIMEOUT_SECONDS = EndpointOptions.QUERY_TIMEOUT_SECONDS;
  private static final Set<String> ABORTED_WHILE = Set.of("PULLING", "PULL_SUCCEEDED",
      "PULL_FAILED");
  private static final Set<String> TIMED_OUT_WHILE = Set.of("PULLING", "PULL_SUCCEEDED");

  private final CsiClient client;
  private final Duration timeout;
  private final Deadline deadline;
  private final ProgressPrinter progress;

  /** @param deadline when {@code timeout} (named in messages) runs out */
  RetryingPublisher(CsiClient client, Duration timeout, Deadline deadline,
      ProgressPrinter progress) {
    this.client = client;
    this.timeout = timeout;
    this.deadline = deadline;
    this.progress = progress;
  }

  /**
   * Returns once the volume is mounted; throws the driver's answer when it is anything but a
   * pull in progress, and a {@link CliFailure} when the deadline passes while it still pulls.
   */
  void publish(NodePublishVolumeRequest request) throws InterruptedException {
    boolean succeeded = false;
    try {
      while (true) {
        try {
          awaitShowingProgress(client.nodeFuture().withDeadline(deadline)
              .nodePublishVolume(request), request.getVolumeId());
          succeeded = true;
          return;
        } catch (StatusRuntimeException e) {
          Optional<GetVolumeResponse> volume = pullToWaitFor(e, request.getVolumeId());
          if (volume.isEmpty()) {
            throw e;
          }
          if (!volume.get().getState().equals("PULL_FAILED")) {
            show(volume.get());
          }
          if (deadline.timeRemaining(TimeUnit.MILLISECONDS) <= POLL.toMillis()) {
            throw stillPulling(volume.get());
          }
          // publish_wait_seconds may be 0: do not hammer the driver.
          TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
        }
      }
    } finally {
      progress.finish(succeeded);
    }
  }

  private void awaitShowingProgress(Future<?> call, String volumeId)
      throws InterruptedException {
    while (true) {
      try {
        call.get(POLL.toMillis(), TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException e) {
        describe(volumeId).filter(v -> v.getState().equals("PULLING")).ifPresent(this::show);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof StatusRuntimeException s) {
          throw s;
        }
        throw new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        call.cancel(true);
        throw e;
      }
    }
  }

  /**
   * The volume when {@code e} means "call again": ABORTED while the driver describes the volume
   * as pulling, as pulled and waiting for the call that mounts it, or as failed (the next call
   * collects the real error, as kubelet's would); or the deadline passing while it pulls.
   * Empty for any other failure.
   */
  private Optional<GetVolumeResponse> pullToWaitFor(StatusRuntimeException e, String volumeId) {
    Status.Code code = e.getStatus().getCode();
    Set<String> states = code == Status.Code.ABORTED ? ABORTED_WHILE
        : code == Status.Code.DEADLINE_EXCEEDED ? TIMED_OUT_WHILE : Set.of();
    return states.isEmpty() ? Optional.empty()
        : describe(volumeId).filter(v -> states.contains(v.getState()));
  }

  /** Best effort: progress is a courtesy, so any failure to get it is no answer. */
  private Optional<GetVolumeResponse> describe(String volumeId) {
    try {
      return Optional.of(client.volumeAdmin()
          .withDeadlineAfter(DESCRIBE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .getVolume(GetVolumeRequest.newBuilder().setVolumeId(volumeId).build()));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  private void show(GetVolumeResponse v) {
    progress.update(v.getDoneBytes(), v.getTotalBytes(), v.getReference());
  }

  private CliFailure stillPulling(GetVolumeResponse v) {
    if (v.getState().equals("PULL_FAILED")) {
      return new CliFailure("volume " + v.getVolumeId() + ": " + v.getError());
    }
    String sofar = v.getTotalBytes() < 0 ? "resolving " + v.getReference()
        : ByteSize.format(v.getDoneBytes()) + " of " + ByteSize.format(v.getTotalBytes());
    return new CliFailure("volume " + v.getVolumeId() + " is still pulling (" + sofar
        + ") after --timeout " + timeout.toSeconds() + " s; publish again to wait for it");
  }
}
