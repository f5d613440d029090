package org.modelpack.csi.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.modelpack.csi.dynamic.DynamicApiClient;
import org.modelpack.csi.dynamic.DynamicApiClient.Answer;
import org.modelpack.csi.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "mount", mixinStandardHelpOptions = true,
    description = {"Inside a pod: mount a model into the pod's dynamic volume, at "
        + "<workdir>/models/<mount-id>/model (read-only).",
        "Waits for the pull, showing its progress; an interrupted or timed-out mount keeps "
            + "pulling in the driver, and running the same mount again waits for it."})
final class MountCommand implements Callable<Integer> {
  private static final Duration POLL = Duration.ofSeconds(1);

  @Spec CommandSpec spec;
  @Mixin WorkdirOptions workdir;

  @Option(names = "--reference", required = true, paramLabel = "REF",
      description = "The model's OCI reference (registry/repository:tag or @digest)")
  String reference;

  @Option(names = "--mount-id", required = true, paramLabel = "ID",
      description = "Name of the mount: letters, digits, '_' and '-'")
  String mountId;

  @Mixin ExclusionOptions exclusions;

  @Option(names = "--check-disk-quota",
      description = "Refuse the mount when the node's disk quota cannot hold the model")
  boolean checkDiskQuota;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "3600",
      description = "How long to wait for the pull (default: ${DEFAULT-VALUE})")
  long timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    String mounts = workdir.mountsPath();
    ObjectNode body = Json.mapper().createObjectNode()
        .put("mount_id", mountId).put("reference", reference)
        .put("check_disk_quota", checkDiskQuota)
        .put("exclude_model_weights", exclusions.excludeModelWeights);
    exclusions.excludeFilePatterns.forEach(body.putArray("exclude_file_patterns")::add);
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    try (DynamicApiClient client = workdir.connect()) {
      CompletableFuture<Answer> post = CompletableFuture.supplyAsync(() -> WorkdirOptions.send(
          client, "POST", mounts, body.toString(), timeout));
      ProgressPrinter progress = new ProgressPrinter(out, System.console() != null, mountId,
          System::nanoTime);
      Answer answer = await(post, client, mounts + "/" + mountId, progress, timeout);
      progress.finish(answer != null && answer.status() == 201);
      if (answer == null) {
        throw new CliFailure("mount " + mountId + " is still pulling after --timeout "
            + timeoutSeconds + " s; run the same mount again to wait for it");
      }
      if (answer.status() != 201) {
        throw WorkdirOptions.failure("mount " + mountId, answer);
      }
    }
    out.println("mounted " + reference + " at "
        + workdir.workdir.resolve("models").resolve(mountId).resolve("model"));
    return 0;
  }

  /** The POST's answer, showing the mount's progress meanwhile; null after the timeout. */
  private static Answer await(CompletableFuture<Answer> post, DynamicApiClient client,
      String mountPath, ProgressPrinter progress, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        return post.get(POLL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        showProgress(client, mountPath, progress);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof CliFailure f) {
          if (f.getMessage().startsWith("no answer")) {
            return null;
          }
          throw f;
        }
        throw new CliFailure(OneLine.describe(e.getCause()));
      }
    }
    return null;
  }

  private static void showProgress(DynamicApiClient client, String mountPath,
      ProgressPrinter progress) {
    try {
      Answer a = client.send("GET", mountPath, null, POLL);
      if (a.status() == 200) {
        JsonNode s = Json.mapper().readTree(a.body());
        if ("PULLING".equals(s.path("state").asText())) {
          progress.update(s.path("progress").path("done_bytes").asLong(0),
              s.path("progress").path("total_bytes").asLong(-1), s.path("reference").asText());
        }
      }
    } catch (IOException e) {
      // progress is a courtesy: the POST's answer is what counts
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
