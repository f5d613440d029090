package org.modelpack.csi.security;

import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static org.modelpack.csi.security.HostileCase.refused;
import static org.modelpack.csi.testing.HostileArtifacts.bytes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.security.HostileCase.Ctx;
import org.modelpack.csi.security.HostileCase.Pushed;
import org.modelpack.csi.testing.HostileArtifacts;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.OversizedManifestServer;

/**
 * Corpus cases at the manifest level: manifests and indexes too big, too deep or of the wrong
 * shape, artifacts that are not models, and layers whose media type the driver does not serve.
 */
final class ManifestCases {
  private static final String MODEL = "application/vnd.cncf.model.manifest.v1+json";
  private static final String IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json";

  private ManifestCases() {}

  static List<HostileCase> all() {
    return List.of(
        refused("manifests and indexes", "manifest-of-5-mib-from-an-unbounded-registry",
            FAILED_PRECONDITION,
            c -> {
              OversizedManifestServer server =
                  c.closeAfterCase(OversizedManifestServer.start(5L << 20));
              return new Pushed(server.host() + "/hostile/huge:v1", List.of());
            },
            p -> List.of("is larger than 4194304 bytes")),
        refused("manifests and indexes", "manifest-nested-5000-levels-deep", FAILED_PRECONDITION,
            c -> pushRawManifest(c, "{\"schemaVersion\":2,\"mediaType\":\""
                + Manifest.OCI_MANIFEST + "\",\"artifactType\":\"" + MODEL + "\",\"config\":"
                + configJson(c) + ",\"layers\":[],\"x\":" + "[".repeat(5000)
                + "]".repeat(5000) + "}"),
            p -> List.of("is not valid manifest JSON")),
        refused("manifests and indexes", "index-of-5000-entries-none-a-model",
            INVALID_ARGUMENT,
            c -> {
              Descriptor image = pushImage(c);
              List<Descriptor> entries = new ArrayList<>();
              for (int i = 0; i < 5000; i++) {
                entries.add(image);
              }
              HostileArtifacts.pushIndex(c.pusher, c.ref(), entries);
              return new Pushed(c.ref().toString(), List.of());
            },
            p -> List.of("is not a ModelPack model artifact: it has 5000 entries and none has "
                + "a model artifactType")),
        refused("manifests and indexes", "index-pointing-at-another-index", INVALID_ARGUMENT,
            c -> {
              ModelArtifactBuilder.PushedArtifact model = c.builder().rawFile("w.bin", 10, 1)
                  .push(c.pusher, Reference.parse(c.registry.host() + "/hostile/" + c.name
                      + ":model"));
              Reference inner = Reference.parse(c.registry.host() + "/hostile/" + c.name
                  + ":inner");
              String innerDigest = HostileArtifacts.pushIndex(c.pusher, inner, List.of(
                  new Descriptor(Manifest.OCI_MANIFEST, model.manifestDigest(),
                      model.manifestJson().length, null, MODEL)));
              byte[] innerJson = c.pusher.fetchManifest(inner.withDigest(innerDigest)).raw();
              HostileArtifacts.pushIndex(c.pusher, c.ref(), List.of(new Descriptor(
                  Manifest.OCI_INDEX, innerDigest, innerJson.length, null, MODEL)));
              return new Pushed(c.ref().toString(), List.of());
            },
            p -> List.of("nested indexes are not supported")),
        refused("manifests and indexes", "index-whose-only-entry-is-an-image", INVALID_ARGUMENT,
            c -> {
              HostileArtifacts.pushIndex(c.pusher, c.ref(), List.of(pushImage(c)));
              return new Pushed(c.ref().toString(), List.of());
            },
            p -> List.of("is not a ModelPack model artifact")),

        refused("media types", "image-manifest-not-a-model", INVALID_ARGUMENT,
            c -> c.push(c.builder().types(null, IMAGE_CONFIG).rawFile("w.bin", 10, 1)),
            p -> List.of("is not a ModelPack model artifact", IMAGE_CONFIG)),
        refused("media types", "artifact-type-of-1-mib-not-a-model", INVALID_ARGUMENT,
            c -> c.push(c.builder().types("application/x-" + "t".repeat(1 << 20), IMAGE_CONFIG)
                .rawFile("w.bin", 10, 1)),
            p -> List.of("is not a ModelPack model artifact", "more characters)")),
        mediaType("layer-compressed-with-lz4", "application/vnd.cncf.model.weight.v1.tar+lz4",
            "unsupported media type"),
        mediaType("oci-image-layer-in-a-model", "application/vnd.oci.image.layer.v1.tar+gzip",
            "unsupported media type"),
        mediaType("layer-without-a-media-type", "", "media type is missing"),
        mediaType("layer-media-type-of-1-mib",
            "application/vnd.cncf.model.weight.v1." + "z".repeat(1 << 20), "more characters)"));
  }

  /** A model whose second layer has {@code mediaType}. */
  private static HostileCase mediaType(String name, String mediaType, String problem) {
    return refused("media types", name, INVALID_ARGUMENT,
        c -> c.push(c.builder().rawFile("ok.bin", 10, 1).blobLayer(mediaType,
            Map.of("org.cncf.model.filepath", "w.bin"), bytes(new byte[] {1, 2}))),
        p -> List.of(p.layer(1), problem));
  }

  /** Pushes an OCI image manifest (no artifactType, image config) and describes it. */
  private static Descriptor pushImage(Ctx c) throws Exception {
    ModelArtifactBuilder.PushedArtifact image = c.builder().types(null, IMAGE_CONFIG)
        .rawFile("w.bin", 10, 7).push(c.pusher, Reference.parse(c.registry.host()
            + "/hostile/" + c.name + ":image"));
    return new Descriptor(Manifest.OCI_MANIFEST, image.manifestDigest(),
        image.manifestJson().length, null);
  }

  /** An empty model config pushed to the case's repository, as a descriptor's JSON. */
  private static String configJson(Ctx c) throws Exception {
    byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
    String digest = "sha256:" + HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(config));
    java.nio.file.Path file = java.nio.file.Files.createDirectories(c.workDir.resolve(c.name))
        .resolve("config.json");
    java.nio.file.Files.write(file, config);
    c.pusher.pushBlob(c.ref(), file, digest);
    return "{\"mediaType\":\"application/vnd.cncf.model.config.v1+json\",\"digest\":\""
        + digest + "\",\"size\":2}";
  }

  private static Pushed pushRawManifest(Ctx c, String json) throws Exception {
    c.pusher.pushManifest(c.ref(), json.getBytes(StandardCharsets.UTF_8),
        Manifest.OCI_MANIFEST);
    return new Pushed(c.ref().toString(), List.of());
  }
}
