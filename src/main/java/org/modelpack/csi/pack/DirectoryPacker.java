package org.modelpack.csi.pack;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.modelpack.FileMetadata;
import org.modelpack.csi.modelpack.LayerFormat;
import org.modelpack.csi.modelpack.ModelAnnotations;
import org.modelpack.csi.modelpack.ModelMediaTypes;
import org.modelpack.csi.modelpack.ModelMediaTypes.Family;
import org.modelpack.csi.modelpack.ModelMediaTypes.Kind;
import org.modelpack.csi.oci.Manifest;

/**
 * Packs a directory as a ModelPack artifact with one raw layer per file, the way
 * {@code modctl build --raw} lays it out. Meant for trying the driver and for benchmarks, not as
 * a replacement for modctl. Files are hashed by streaming; nothing is copied.
 */
public final class DirectoryPacker {

  private final Family family;

  public DirectoryPacker(Family family) {
    this.family = family;
  }

  public PackedArtifact pack(Path dir, Path workDir) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new IOException("directory " + dir + " has no files to pack");
    }
    boolean cncf = family == Family.CNCF;
    List<PackedArtifact.Blob> blobs = new ArrayList<>();
    ArrayNode layers = Json.mapper().createArrayNode();
    ArrayNode diffIds = Json.mapper().createArrayNode();
    for (Path file : files) {
      String rel = dir.relativize(file).toString().replace('\\', '/');
      PackedArtifact.Blob blob = new PackedArtifact.Blob(file, sha256(file), Files.size(file));
      blobs.add(blob);
      diffIds.add(blob.digest());
      ObjectNode layer = layers.addObject();
      layer.put("mediaType",
          ModelMediaTypes.layerMediaType(family, kindOf(rel, blob.size()), LayerFormat.RAW));
      layer.put("digest", blob.digest());
      layer.put("size", blob.size());
      ObjectNode ann = layer.putObject("annotations");
      ann.put(cncf ? ModelAnnotations.FILEPATH : ModelAnnotations.LEGACY_FILEPATH, rel);
      ann.put(cncf ? ModelAnnotations.FILE_METADATA : ModelAnnotations.LEGACY_FILE_METADATA,
          metadata(file, blob.size()));
    }
    ObjectNode config = Json.mapper().createObjectNode();
    config.putObject("descriptor").put("name", dir.getFileName().toString());
    config.putObject("config");
    ObjectNode modelfs = config.putObject("modelfs");
    modelfs.put("type", "layers");
    modelfs.set("diffIds", diffIds);
    Path configFile = Files.createTempFile(workDir, "config", ".json");
    Files.write(configFile, Json.mapper().writeValueAsBytes(config));
    PackedArtifact.Blob configBlob = new PackedArtifact.Blob(configFile, sha256(configFile),
        Files.size(configFile));
    blobs.add(configBlob);

    ObjectNode manifest = Json.mapper().createObjectNode();
    manifest.put("schemaVersion", 2);
    manifest.put("mediaType", Manifest.OCI_MANIFEST);
    manifest.put("artifactType",
        cncf ? ModelMediaTypes.MANIFEST_V1 : ModelMediaTypes.LEGACY_MANIFEST_V1);
    ObjectNode cfg = manifest.putObject("config");
    cfg.put("mediaType", cncf ? ModelMediaTypes.CONFIG_V1 : ModelMediaTypes.LEGACY_CONFIG_V1);
    cfg.put("digest", configBlob.digest());
    cfg.put("size", configBlob.size());
    manifest.set("layers", layers);
    return new PackedArtifact(blobs, Json.mapper().writeValueAsBytes(manifest), Manifest.OCI_MANIFEST);
  }

  /** The layer kind by file name, a small subset of modctl's classification. */
  static Kind kindOf(String path, long size) {
    String name = path.substring(path.lastIndexOf('/') + 1).toLowerCase();
    if (name.endsWith(".json") || name.endsWith(".yaml") || name.endsWith(".yml")
        || name.endsWith(".txt") && (name.equals("vocab.txt") || name.equals("merges.txt"))
        || name.contains("tokenizer.model") || name.endsWith(".jinja")) {
      return Kind.WEIGHT_CONFIG;
    }
    if (name.endsWith(".safetensors") || name.endsWith(".bin") || name.endsWith(".gguf")
        || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".onnx")
        || size > 128_000_000L) {
      return Kind.WEIGHT;
    }
    if (name.endsWith(".md") || name.startsWith("license") || name.startsWith("readme")
        || name.endsWith(".txt")) {
      return Kind.DOC;
    }
    return Kind.CODE;
  }

  private static String metadata(Path file, long size) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    int mode = 0;
    for (PosixFilePermission p : perms) {
      mode |= 1 << (8 - p.ordinal());
    }
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("name", file.getFileName().toString());
    m.put("mode", mode);
    m.put("uid", 0);
    m.put("gid", 0);
    m.put("size", size);
    m.put("mtime", Files.getLastModifiedTime(file).toInstant().truncatedTo(ChronoUnit.MICROS)
        .toString());
    m.put("typeflag", FileMetadata.TYPE_REGULAR);
    return Json.mapper().writeValueAsString(m);
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return "sha256:" + HexFormat.of().formatHex(md.digest());
  }

}
