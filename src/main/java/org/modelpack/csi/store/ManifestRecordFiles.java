package org.modelpack.csi.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.modelpack.csi.concurrent.LruCache;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.json.Json;
import org.modelpack.csi.oci.Digest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ManifestRecords} kept as files: the manifest's bytes under {@code manifests/} (named by
 * digest) and one small record per reference under {@code refs/} (named by the reference's
 * hash).
 */
final class ManifestRecordFiles implements ManifestRecords {
  private static final Logger log = LoggerFactory.getLogger(ManifestRecordFiles.class);
  private static final ObjectMapper JSON = Json.mapper();

  private final StoreLayout layout;
  /**
   * Records read or written by this process, the only writer of refs/ and manifests/: a warm
   * pull then reads and hashes no file to learn what its tag named.
   */
  private final LruCache<String, RecordedManifest> recorded = new LruCache<>(256);

  ManifestRecordFiles(StoreLayout layout) {
    this.layout = layout;
  }

  @Override
  public void recordManifest(String reference, String digest, String namedDigest, byte[] raw,
      boolean anonymousReadable) throws IOException {
    if (recorded.get(reference).filter(known -> known.digest().equals(digest)
        && known.namedDigest().equals(namedDigest)
        && known.anonymousReadable() == anonymousReadable).isPresent()) {
      return;
    }
    Path manifest = layout.manifest(digest);
    if (!Files.exists(manifest)) {
      FileTrees.writeAtomically(manifest, raw);
    }
    Path ref = refFile(reference);
    // Sorted keys: the same record is the same bytes, so an unchanged one is not rewritten.
    byte[] json = JSON.writeValueAsBytes(new TreeMap<>(Map.of("reference", reference,
        "digest", digest, "named_digest", namedDigest,
        "anonymous_readable", anonymousReadable)));
    if (!Files.exists(ref) || !Arrays.equals(Files.readAllBytes(ref), json)) {
      FileTrees.writeAtomically(ref, json);
    }
    recorded.put(reference, new RecordedManifest(reference, digest, namedDigest, raw,
        anonymousReadable));
  }

  @Override
  public Optional<RecordedManifest> recordedManifest(String reference) {
    Optional<RecordedManifest> known = recorded.get(reference);
    if (known.isPresent()) {
      return known;
    }
    Path ref = refFile(reference);
    try {
      if (!Files.isRegularFile(ref)) {
        return Optional.empty();
      }
      JsonNode record = JSON.readTree(ref.toFile());
      String digest = record.path("digest").asText();
      // Records written before named_digest existed: as if the reference named the manifest.
      String named = record.path("named_digest").asText(digest);
      boolean anonymous = record.path("anonymous_readable").asBoolean(false);
      byte[] raw = Files.readAllBytes(layout.manifest(digest));
      Digest d = Digest.parse(digest);
      if (!d.matches(d.newHasher().digest(raw))) {
        log.warn("recorded manifest {} is corrupt; ignoring it", digest);
        return Optional.empty();
      }
      RecordedManifest read = new RecordedManifest(reference, digest, named, raw, anonymous);
      recorded.put(reference, read);
      return Optional.of(read);
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read the recorded manifest of {}: {}", reference, e.getMessage());
      return Optional.empty();
    }
  }

  private Path refFile(String reference) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256")
          .digest(reference.getBytes(StandardCharsets.UTF_8));
      return layout.refs().resolve(HexFormat.of().formatHex(h) + ".json");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
