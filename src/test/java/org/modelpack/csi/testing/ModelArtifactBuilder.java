package org.modelpack.csi.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;

/**
 * Builds ModelPack artifacts for tests from generated files and pushes them with {@link
 * RegistryClient}. Every blob is written to a file under the work directory while it is hashed,
 * so multi-GB test artifacts never sit in memory.
 *
 * <p>Nothing is validated on purpose: paths like {@code ../evil} or {@code /etc/x}, symlinks
 * pointing outside and hardlinks can be produced to test that the puller refuses them.
 */
public final class ModelArtifactBuilder {

  /** Identifier family: current {@code cncf} or legacy {@code cnai}. */
  public enum Family {
    CNCF("cncf"), CNAI("cnai");

    public final String id;

    Family(String id) {
      this.id = id;
    }
  }

  /** Tar layer encoding. */
  public enum Compression {
    NONE("tar"), GZIP("tar+gzip"), ZSTD("tar+zstd");

    public final String suffix;

    Compression(String suffix) {
      this.suffix = suffix;
    }
  }

  /** File content that can be streamed more than once (size known up front for tar). */
  public interface Content {
    long size() throws IOException;

    void writeTo(OutputStream out) throws IOException;

    /** {@code size} pseudo-random bytes, reproducible from {@code seed}. */
    static Content generated(long size, long seed) {
      return new Content() {
        public long size() {
          return size;
        }

        public void writeTo(OutputStream out) throws IOException {
          SplittableRandom random = new SplittableRandom(seed);
          byte[] buf = new byte[64 * 1024];
          for (long left = size; left > 0; ) {
            int n = (int) Math.min(buf.length, left);
            random.nextBytes(buf);
            out.write(buf, 0, n);
            left -= n;
          }
        }
      };
    }

    static Content file(Path source) {
      return new Content() {
        public long size() throws IOException {
          return Files.size(source);
        }

        public void writeTo(OutputStream out) throws IOException {
          Files.copy(source, out);
        }
      };
    }

    static Content text(String text) {
      byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
      return new Content() {
        public long size() {
          return bytes.length;
        }

        public void writeTo(OutputStream out) throws IOException {
          out.write(bytes);
        }
      };
    }
  }

  /** Metadata recorded for a file (file.metadata+json annotation or tar header). */
  public record FileMeta(int mode, Instant mtime) {
    public static final FileMeta DEFAULT =
        new FileMeta(0644, Instant.parse("2026-11-23T22:17:46.25369018Z"));
  }

  /** One tar entry; use the factories. {@code content} only for files. */
  public record TarEntry(String name, byte type, Content content, String linkTarget,
      FileMeta meta) {
    public static TarEntry file(String name, Content content) {
      return new TarEntry(name, TarConstants.LF_NORMAL, content, null, FileMeta.DEFAULT);
    }

    public static TarEntry file(String name, long size, long seed) {
      return file(name, Content.generated(size, seed));
    }

    public static TarEntry dir(String name) {
      return new TarEntry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, null,
          null, new FileMeta(0755, FileMeta.DEFAULT.mtime()));
    }

    public static TarEntry symlink(String name, String target) {
      return new TarEntry(name, TarConstants.LF_SYMLINK, null, target, FileMeta.DEFAULT);
    }

    public static TarEntry hardlink(String name, String target) {
      return new TarEntry(name, TarConstants.LF_LINK, null, target, FileMeta.DEFAULT);
    }

    public TarEntry withMeta(FileMeta m) {
      return new TarEntry(name, type, content, linkTarget, m);
    }
  }

  /** A regular file the artifact materialises to, with the sha256 of its content. */
  public record PushedFile(String path, String sha256, long size) { }

  /**
   * What {@link #push} uploaded.
   *
   * @param reference the tag reference pushed to, pinned to the top-level digest
   * @param manifestDigest digest of the model manifest
   * @param indexDigest digest of the wrapping index, or null
   */
  public record PushedArtifact(Reference reference, String manifestDigest, String indexDigest,
      Manifest manifest, byte[] manifestJson, List<PushedFile> files) {
    public PushedFile file(String path) {
      return files.stream().filter(f -> f.path().equals(path)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no file " + path + " in " + files));
    }
  }

  private record Blob(Path file, Descriptor descriptor, String diffId) { }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OCI_EMPTY_CONFIG = "application/vnd.oci.image.config.v1+json";

  /** Writes a blob's bytes, streaming, into a file under the work directory. */
  public interface BlobWriter {
    void write(OutputStream out) throws IOException;
  }

  private final Path workDir;
  private Family family = Family.CNCF;
  private String artifactType;
  private String configMediaType;
  private java.util.function.Consumer<ObjectNode> manifestEdit = m -> { };
  private final List<Blob> layers = new ArrayList<>();
  private final List<PushedFile> files = new ArrayList<>();
  private boolean wrapInIndex;
  private boolean indexDecoy;
  private int counter;

  private ModelArtifactBuilder(Path workDir) {
    this.workDir = workDir;
  }

  public static ModelArtifactBuilder create(Path workDir) throws IOException {
    Files.createDirectories(workDir);
    return new ModelArtifactBuilder(workDir);
  }

  /** Must be chosen before adding layers (media types are fixed when a layer is added). */
  public ModelArtifactBuilder family(Family f) {
    if (!layers.isEmpty()) {
      throw new IllegalStateException("choose the family before adding layers");
    }
    this.family = f;
    return this;
  }

  /** A weight file of {@code size} generated bytes as a {@code .raw} layer. */
  public ModelArtifactBuilder rawFile(String path, long size, long seed) throws IOException {
    return rawFile("weight", path, Content.generated(size, seed), FileMeta.DEFAULT);
  }

  /** A file copied from {@code source} as a {@code .raw} layer. */
  public ModelArtifactBuilder rawFile(String path, Path source) throws IOException {
    return rawFile("weight", path, Content.file(source), FileMeta.DEFAULT);
  }

  /**
   * A {@code .raw} layer of {@code kind} (weight, weight.config, doc, code, dataset). {@code
   * path} becomes the filepath annotation verbatim, so {@code ../evil} or {@code /etc/x} work as
   * malicious input.
   */
  public ModelArtifactBuilder rawFile(String kind, String path, Content content, FileMeta meta)
      throws IOException {
    Path file = newBlobFile("raw");
    MessageDigest sha = sha256();
    long size;
    try (OutputStream out = new DigestOutputStream(
        new BufferedOutputStream(Files.newOutputStream(file)), sha)) {
      content.writeTo(out);
    }
    size = Files.size(file);
    String digest = "sha256:" + HexFormat.of().formatHex(sha.digest());
    Map<String, String> ann = new LinkedHashMap<>();
    ann.put("org." + family.id + ".model.file.metadata+json", metadataJson(path, meta, size));
    ann.put("org." + family.id + ".model.filepath", path);
    layers.add(new Blob(file, new Descriptor(mediaType(kind, "raw"), digest, size, ann), digest));
    files.add(new PushedFile(path, digest.substring(7), size));
    return this;
  }

  /** Escape hatch alias: a raw layer whose filepath annotation is anything at all. */
  public ModelArtifactBuilder rawLayerWithFilepath(String filepathAnnotation, Content content)
      throws IOException {
    return rawFile("weight", filepathAnnotation, content, FileMeta.DEFAULT);
  }

  /** A weight tar layer; a single-entry layer gets that entry's name as filepath annotation. */
  public ModelArtifactBuilder tarLayer(Compression compression, TarEntry... entries)
      throws IOException {
    String filepath = entries.length == 1 ? entries[0].name() : null;
    return tarLayer("weight", compression, filepath, List.of(entries));
  }

  /**
   * A tar layer with exactly these entries, written as given (names with {@code ..}, absolute
   * names, links pointing anywhere). {@code filepathAnnotation} may be null.
   */
  public ModelArtifactBuilder tarLayer(String kind, Compression compression,
      String filepathAnnotation, List<TarEntry> entries) throws IOException {
    Path file = newBlobFile(compression.suffix.replace('+', '.'));
    MessageDigest blobSha = sha256();
    MessageDigest tarSha = sha256();
    List<PushedFile> layerFiles = new ArrayList<>();
    try (OutputStream fileOut = new DigestOutputStream(
            new BufferedOutputStream(Files.newOutputStream(file)), blobSha);
        OutputStream compressed = compress(compression, fileOut);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(
            new DigestOutputStream(compressed, tarSha), StandardCharsets.UTF_8.name())) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      for (TarEntry e : entries) {
        TarArchiveEntry te = new TarArchiveEntry(e.name(), e.type(), true);
        te.setMode(e.meta().mode());
        te.setModTime(Date.from(e.meta().mtime()));
        te.setUserId(0);
        te.setGroupId(0);
        if (e.linkTarget() != null) {
          te.setLinkName(e.linkTarget());
        }
        if (e.type() == TarConstants.LF_NORMAL) {
          long size = e.content().size();
          te.setSize(size);
          tar.putArchiveEntry(te);
          MessageDigest fileSha = sha256();
          OutputStream entryOut = new DigestOutputStream(nonClosing(tar), fileSha);
          e.content().writeTo(entryOut);
          entryOut.flush();
          tar.closeArchiveEntry();
          layerFiles.add(new PushedFile(e.name(), HexFormat.of().formatHex(fileSha.digest()),
              size));
        } else {
          tar.putArchiveEntry(te);
          tar.closeArchiveEntry();
        }
      }
      tar.finish();
    }
    String digest = "sha256:" + HexFormat.of().formatHex(blobSha.digest());
    String diffId = "sha256:" + HexFormat.of().formatHex(tarSha.digest());
    Map<String, String> ann = new LinkedHashMap<>();
    if (filepathAnnotation != null) {
      ann.put("org." + family.id + ".model.filepath", filepathAnnotation);
    }
    layers.add(new Blob(file, new Descriptor(mediaType(kind, compression.suffix), digest,
        Files.size(file), ann), diffId));
    files.addAll(layerFiles);
    return this;
  }

  /**
   * A layer whose blob is exactly what {@code writer} writes, listed with {@code mediaType} and
   * {@code annotations} as given: bytes that are not what the media type says, compressed
   * bombs, hand-made tar headers.
   */
  public ModelArtifactBuilder blobLayer(String mediaType, Map<String, String> annotations,
      BlobWriter writer) throws IOException {
    Path file = newBlobFile("bin");
    MessageDigest sha = sha256();
    try (OutputStream out = new DigestOutputStream(
        new BufferedOutputStream(Files.newOutputStream(file)), sha)) {
      writer.write(out);
    }
    String digest = "sha256:" + HexFormat.of().formatHex(sha.digest());
    layers.add(new Blob(file, new Descriptor(mediaType, digest, Files.size(file), annotations),
        digest));
    return this;
  }

  /**
   * Makes the manifest list the last layer with {@code lie(descriptor)} instead (a wrong size
   * or media type); the blob pushed stays the one written.
   */
  public ModelArtifactBuilder describeLastLayerAs(
      java.util.function.UnaryOperator<Descriptor> lie) {
    Blob last = layers.remove(layers.size() - 1);
    layers.add(new Blob(last.file(), lie.apply(last.descriptor()), last.diffId()));
    return this;
  }

  /**
   * The manifest's artifactType and config media type (null artifactType: none), for artifacts
   * that are not models; by default those of the family.
   */
  public ModelArtifactBuilder types(String artifactType, String configMediaType) {
    this.artifactType = artifactType;
    this.configMediaType = configMediaType;
    return this;
  }

  /** Edits the manifest JSON before it is pushed (the registry must still accept it). */
  public ModelArtifactBuilder editManifest(java.util.function.Consumer<ObjectNode> edit) {
    this.manifestEdit = edit;
    return this;
  }

  /** Push the manifest inside an OCI index (tag points at the index). */
  public ModelArtifactBuilder wrapInIndex() {
    this.wrapInIndex = true;
    return this;
  }

  /**
   * Like {@link #wrapInIndex()} but with a non-model image manifest listed first, so a puller
   * must choose by artifactType rather than take the first or only entry.
   */
  public ModelArtifactBuilder wrapInIndexWithDecoy() {
    this.wrapInIndex = true;
    this.indexDecoy = true;
    return this;
  }

  /** Uploads layers, config, manifest (and index) to {@code ref}'s repository and tag. */
  public PushedArtifact push(RegistryClient client, Reference ref) throws IOException {
    for (Blob b : layers) {
      client.pushBlob(ref, b.file(), b.descriptor().digest());
    }
    Blob config = configBlob();
    client.pushBlob(ref, config.file(), config.descriptor().digest());
    Manifest manifest = new Manifest(2, Manifest.OCI_MANIFEST,
        configMediaType != null ? artifactType
            : "application/vnd." + family.id + ".model.manifest.v1+json", config.descriptor(),
        layers.stream().map(Blob::descriptor).toList(), null, null);
    ObjectNode tree = JSON.valueToTree(manifest);
    manifestEdit.accept(tree);
    byte[] manifestJson = JSON.writeValueAsBytes(tree);
    if (!wrapInIndex) {
      String digest = client.pushManifest(ref, manifestJson, Manifest.OCI_MANIFEST);
      return new PushedArtifact(ref.withDigest(digest), digest, null, manifest, manifestJson,
          List.copyOf(files));
    }
    String digest = client.pushManifest(byDigest(ref, manifestJson), manifestJson, Manifest.OCI_MANIFEST);
    List<Descriptor> entries = new ArrayList<>();
    if (indexDecoy) {
      entries.add(pushDecoy(client, ref));
    }
    entries.add(new Descriptor(Manifest.OCI_MANIFEST, digest, manifestJson.length, null,
        manifest.artifactType()));
    Manifest index = new Manifest(2, Manifest.OCI_INDEX, null, null, null, entries, null);
    byte[] indexJson = JSON.writeValueAsBytes(index);
    String indexDigest = client.pushManifest(ref, indexJson, Manifest.OCI_INDEX);
    return new PushedArtifact(ref.withDigest(indexDigest), digest, indexDigest, manifest,
        manifestJson, List.copyOf(files));
  }

  private Descriptor pushDecoy(RegistryClient client, Reference ref) throws IOException {
    Path cfg = newBlobFile("json");
    Files.writeString(cfg, "{}");
    String cfgDigest =
        "sha256:" + HexFormat.of().formatHex(sha256().digest(Files.readAllBytes(cfg)));
    client.pushBlob(ref, cfg, cfgDigest);
    Manifest decoy = new Manifest(2, Manifest.OCI_MANIFEST, null,
        new Descriptor(OCI_EMPTY_CONFIG, cfgDigest, 2, null), List.of(), null, null);
    byte[] json = JSON.writeValueAsBytes(decoy);
    String digest = client.pushManifest(byDigest(ref, json), json, Manifest.OCI_MANIFEST);
    return new Descriptor(Manifest.OCI_MANIFEST, digest, json.length, null, null);
  }

  /** Untagged push target: the manifest is addressed by the digest of its bytes. */
  private static Reference byDigest(Reference ref, byte[] manifestJson) {
    String digest = "sha256:" + HexFormat.of().formatHex(sha256().digest(manifestJson));
    return new Reference(ref.registry(), ref.repository(), null, digest);
  }

  private Blob configBlob() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.putObject("descriptor").put("name", "test-model");
    root.putObject("config").put("format", "safetensors");
    ObjectNode modelfs = root.putObject("modelfs");
    modelfs.put("type", "layers");
    ArrayNode diffIds = modelfs.putArray("diffIds");
    layers.forEach(b -> diffIds.add(b.diffId()));
    byte[] bytes = JSON.writeValueAsBytes(root);
    Path file = newBlobFile("json");
    Files.write(file, bytes);
    String digest = "sha256:" + HexFormat.of().formatHex(sha256().digest(bytes));
    return new Blob(file, new Descriptor(configMediaType != null ? configMediaType
        : "application/vnd." + family.id + ".model.config.v1+json", digest, bytes.length, null),
        digest);
  }

  private String mediaType(String kind, String variant) {
    return "application/vnd." + family.id + ".model." + kind + ".v1." + variant;
  }

  /** The metadata JSON modctl writes: base name, decimal mode, RFC 3339 mtime, numeric flag. */
  private static String metadataJson(String path, FileMeta meta, long size) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("name", path.substring(path.lastIndexOf('/') + 1));
    n.put("mode", meta.mode());
    n.put("uid", 0);
    n.put("gid", 0);
    n.put("size", size);
    n.put("mtime", DateTimeFormatter.ISO_INSTANT.format(meta.mtime()));
    n.put("typeflag", 0);
    return JSON.writeValueAsString(n);
  }

  private Path newBlobFile(String ext) {
    return workDir.resolve("blob-" + (++counter) + "." + ext);
  }

  private static OutputStream compress(Compression c, OutputStream out) throws IOException {
    return switch (c) {
      case NONE -> nonClosing(out);
      case GZIP -> new GZIPOutputStream(nonClosing(out), 64 * 1024);
      case ZSTD -> new ZstdOutputStream(nonClosing(out));
    };
  }

  /** Lets an inner stream be closed (to flush its trailer) without closing the outer one. */
  static OutputStream nonClosing(OutputStream out) {
    return new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
