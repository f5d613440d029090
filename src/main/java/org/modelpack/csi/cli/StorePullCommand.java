package org.modelpack.csi.cli;

import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.modelpack.csi.admin.v1.PullProgress;
import org.modelpack.csi.admin.v1.PullRequest;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.csi.CsiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code store pull}: warms the node's store with a model before any pod asks for it. The pull
 * runs in the driver; each call only watches it for a while, so a pull longer than one call's
 * deadline is watched by the next call, which joins it (docs/decisions/1141).
 */
@Command(name = "pull", mixinStandardHelpOptions = true,
    description = {"Download a model into the node's layer store without a volume (prefetch), "
        + "so pods that use it later start warm.",
        "The driver pulls with the node's registry credentials and mirrors. Its entries stay "
            + "in the store unreferenced, as warm cache, evictable like any other. The pull "
            + "runs in the driver: if this command stops, the pull goes on, and running it "
            + "again joins it. Progress is shown (a bar on a terminal, else a line at most "
            + "every 5 s)."})
final class StorePullCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin EndpointOptions endpoint;

  @Parameters(index = "0", paramLabel = "REFERENCE",
      description = "The model, e.g. registry.example.com/models/llama:v1 or …@sha256:…")
  String reference;

  @Mixin ExclusionOptions exclusions;

  @Option(names = "--timeout", defaultValue = "86400", paramLabel = "SECONDS",
      converter = OptionConverters.PositiveSeconds.class,
      description = "How long to wait for the pull (default: ${DEFAULT-VALUE}); the driver "
          + "goes on pulling after it")
  Duration timeout;

  /** Deadline of one call watching the pull; the next call joins it. */
  @Option(names = "--call-timeout", defaultValue = "60", hidden = true,
      converter = OptionConverters.PositiveSeconds.class)
  Duration callTimeout;

  @Override
  public Integer call() {
    Path socket = endpoint.socket();
    PullRequest request = PullRequest.newBuilder().setReference(reference)
        .setExcludeModelWeights(exclusions.excludeModelWeights)
        .addAllExcludeFilePatterns(exclusions.excludeFilePatterns).build();
    PrintWriter out = spec.commandLine().getOut();
    ProgressPrinter progress = new ProgressPrinter(out, System.console() != null, reference,
        System::nanoTime);
    Deadline deadline = Deadline.after(timeout.toMillis(), TimeUnit.MILLISECONDS);
    long start = System.nanoTime();
    PullProgress last = null;
    boolean succeeded = false;
    try (CsiClient client = EndpointOptions.connect(socket)) {
      while (last == null || !last.getDone()) {
        try {
          last = watch(client, request, deadline, progress, last);
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED || deadline.isExpired()) {
            throw e;
          }
          // Only this call's deadline passed: the pull goes on in the driver; join it again.
        }
      }
      succeeded = true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
        throw stillPulling(last);
      }
      throw GrpcFailures.of(e, socket, "--timeout " + timeout.toSeconds() + " s");
    } finally {
      progress.finish(succeeded);
    }
    out.printf("prefetched %s (%s, %d layers, %d already on the node) in %.1f s%n", reference,
        last.getManifestDigest(), last.getLayers(), Math.max(0, last.getLayersOnNode()),
        (System.nanoTime() - start) / 1e9);
    return 0;
  }

  /** One call: shows each progress message; returns the last one (done or not). */
  private PullProgress watch(CsiClient client, PullRequest request, Deadline deadline,
      ProgressPrinter progress, PullProgress last) {
    Deadline call = Deadline.after(Math.min(
        deadline.timeRemaining(TimeUnit.MILLISECONDS), callTimeout.toMillis()),
        TimeUnit.MILLISECONDS);
    Iterator<PullProgress> messages = client.storeAdmin().withDeadline(call).pull(request);
    while (messages.hasNext()) {
      last = messages.next();
      progress.update(last.getDoneBytes(), last.getTotalBytes(), request.getReference());
    }
    return last;
  }

  private CliFailure stillPulling(PullProgress last) {
    String sofar = last == null || last.getTotalBytes() < 0 ? "resolving it"
        : ByteSize.format(last.getDoneBytes()) + " of " + ByteSize.format(last.getTotalBytes());
    return new CliFailure("the driver is still pulling " + reference + " (" + sofar
        + ") after --timeout " + timeout.toSeconds() + " s; it goes on, and store pull again "
        + "waits for it");
  }
}
