package org.modelpack.csi.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import org.modelpack.csi.config.ConfigLoader;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.modelpack.ModelMediaTypes.Family;
import org.modelpack.csi.pack.DirectoryPacker;
import org.modelpack.csi.pack.PackedArtifact;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistryException;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.registry.RetryPolicy;
import org.modelpack.csi.server.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "push", mixinStandardHelpOptions = true,
    description = {"Pack a directory as a ModelPack artifact (one raw layer per file) and push it.",
        "A convenience for trying the driver without modctl; credentials come from "
            + "DOCKER_CONFIG/config.json as for pulls."})
final class PushCommand implements Callable<Integer> {
  /**
   * Someone is waiting at a terminal: a few quick retries ride out a registry restarting, the
   * driver's six (up to half a minute of backoff) would only delay the error.
   */
  static final RetryPolicy RETRY = new RetryPolicy(3, Duration.ofMillis(500),
      Duration.ofSeconds(2));

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "Directory with the model files")
  Path dir;

  @Parameters(index = "1", paramLabel = "REFERENCE",
      converter = OptionConverters.ModelReference.class,
      description = "e.g. 127.0.0.1:5000/models/demo:v1")
  Reference reference;

  @Option(names = "--family", defaultValue = "CNCF",
      description = "Media type family: cncf (current) or cnai (legacy). Default: cncf")
  Family family;

  @Option(names = "--docker-config", paramLabel = "DIR",
      description = "Directory with config.json (default: $DOCKER_CONFIG or ~/.docker)")
  Path dockerConfig;

  @Override
  public Integer call() throws IOException {
    if (!Files.exists(dir)) {
      throw new CliFailure("directory " + dir + " does not exist");
    }
    if (!Files.isDirectory(dir)) {
      throw new CliFailure(dir + " is not a directory");
    }
    Path docker = dockerConfig != null ? dockerConfig
        : ConfigLoader.system().load(null).pull().dockerConfigDir(); // the driver's own default
    Path work = Files.createTempDirectory("model-push");
    try (RegistryClient client = new RegistryClient(new RegistrySettings(docker, Set.of(), null,
        RegistrySettings.DEFAULT_CONNECT_TIMEOUT, Version.userAgent()).withRetry(RETRY))) {
      PackedArtifact artifact = pack(work);
      for (PackedArtifact.Blob blob : artifact.blobs()) {
        client.pushBlob(reference, blob.file(), blob.digest());
      }
      String digest = client.pushManifest(reference, artifact.manifest(),
          artifact.manifestMediaType());
      spec.commandLine().getOut().println("pushed " + reference + " ("
          + (artifact.blobs().size() - 1) + " files) as " + digest);
      return 0;
    } catch (RegistryException e) {
      throw new CliFailure("cannot push " + reference + ": " + reason(e));
    } finally {
      FileTrees.delete(work);
    }
  }

  /** The registry's words, or for an unreachable registry the network's. */
  private String reason(RegistryException e) {
    if (e.kind() == RegistryException.Kind.UNAVAILABLE && e.getCause() instanceof IOException io) {
      return "cannot reach " + reference.registry() + ": " + OneLine.rootCause(io);
    }
    return e.getMessage();
  }

  private PackedArtifact pack(Path work) {
    try {
      return new DirectoryPacker(family).pack(dir, work);
    } catch (IOException e) {
      throw new CliFailure("cannot pack " + dir + ": " + (e.getClass() == IOException.class
          ? e.getMessage() : OneLine.describe(e)));
    }
  }
}
