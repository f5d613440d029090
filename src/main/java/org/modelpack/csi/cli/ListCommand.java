package org.modelpack.csi.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.modelpack.csi.config.ByteSize;
import org.modelpack.csi.dynamic.DynamicApiClient;
import org.modelpack.csi.dynamic.DynamicApiClient.Answer;
import org.modelpack.csi.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "list", mixinStandardHelpOptions = true,
    description = "Inside a pod: list the models mounted into the pod's dynamic volume "
        + "(tab-separated: mount id, reference, state, progress or error).")
final class ListCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin WorkdirOptions workdir;

  @Override
  public Integer call() throws IOException {
    Answer a;
    try (DynamicApiClient client = workdir.connect()) {
      a = WorkdirOptions.send(client, "GET", workdir.mountsPath(), null, Duration.ofSeconds(30));
    }
    if (a.status() != 200) {
      throw WorkdirOptions.failure("list", a);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println("MOUNT ID\tREFERENCE\tSTATE\tDETAIL");
    for (JsonNode m : Json.mapper().readTree(a.body())) {
      out.println(m.path("mount_id").asText() + "\t" + m.path("reference").asText() + "\t"
          + m.path("state").asText() + "\t" + detail(m));
    }
    return 0;
  }

  private static String detail(JsonNode m) {
    if (m.hasNonNull("error")) {
      return OneLine.of(m.path("error").asText());
    }
    JsonNode p = m.path("progress");
    if (p.isMissingNode() || p.path("total_bytes").asLong(-1) < 0) {
      return "";
    }
    return ByteSize.format(p.path("done_bytes").asLong()) + " of "
        + ByteSize.format(p.path("total_bytes").asLong());
  }
}
