package org.modelpack.csi.cli;

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
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.server.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "push", mixinStandardHelpOptions = true,
    description = {"Pack a directory as a ModelPack artifact (one raw layer per file) and push it.",
        "A convenience for trying the driver without modctl; credentials come from "
            + "DOCKER_CONFIG/config.json as for pulls."})
final class PushCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DIR", description = "Directory with the model files")
  Path dir;

  @Parameters(index = "1", paramLabel = "REFERENCE", description = "e.g. 127.0.0.1:5000/models/demo:v1")
  String reference;

  @Option(names = "--family", defaultValue = "CNCF",
      description = "Media type family: cncf (current) or cnai (legacy). Default: cncf")
  Family family;

  @Option(names = "--docker-config", paramLabel = "DIR",
      description = "Directory with config.json (default: $DOCKER_CONFIG or ~/.docker)")
  Path dockerConfig;

  @Override
  public Integer call() throws Exception {
    Reference ref = Reference.parse(reference);
    Path docker = dockerConfig != null ? dockerConfig
        : ConfigLoader.system().load(null).pull().dockerConfigDir(); // the driver's own default
    Path work = Files.createTempDirectory("model-push");
    try (RegistryClient client = new RegistryClient(new RegistrySettings(docker, Set.of(), null,
        Duration.ofSeconds(30), "model-csi-driver/" + Version.get()))) {
      PackedArtifact artifact = new DirectoryPacker(family).pack(dir, work);
      for (PackedArtifact.Blob blob : artifact.blobs()) {
        client.pushBlob(ref, blob.file(), blob.digest());
      }
      String digest = client.pushManifest(ref, artifact.manifest(), artifact.manifestMediaType());
      System.out.println("pushed " + ref + " (" + (artifact.blobs().size() - 1) + " files) as "
          + digest);
      return 0;
    } finally {
      FileTrees.delete(work);
    }
  }
}
