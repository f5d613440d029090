package org.modelpack.csi.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.modelpack.csi.dynamic.DynamicApiClient;
import org.modelpack.csi.dynamic.DynamicApiClient.Answer;
import org.modelpack.csi.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Inside a pod: show what a model artifact holds, without pulling it "
        + "(manifest and config digests, the model config's fields, each layer's media type, "
        + "digest, size and file path), as JSON.")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin WorkdirOptions workdir;

  @Parameters(index = "0", paramLabel = "REF", description = "The model's OCI reference")
  String reference;

  @Override
  public Integer call() throws IOException {
    Answer a;
    try (DynamicApiClient client = workdir.connect()) {
      a = WorkdirOptions.send(client, "GET", "/api/v1/artifacts/" + reference, null,
          Duration.ofMinutes(2));
    }
    if (a.status() != 200) {
      throw WorkdirOptions.failure("inspect " + reference, a);
    }
    spec.commandLine().getOut().println(Json.mapper().writer(SerializationFeature.INDENT_OUTPUT)
        .writeValueAsString(Json.mapper().readTree(a.body())));
    return 0;
  }
}
