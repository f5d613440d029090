package org.modelpack.csi.registry;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GET of a manifest: the answer is size-capped, checked against the digest the reference names
 * and parsed; an index is resolved to its model entry (see {@link ManifestSelector}), which is
 * fetched by digest.
 */
final class ManifestPuller {
  private static final Logger LOG = LoggerFactory.getLogger(ManifestPuller.class);
  /** The distribution spec's portability floor for manifests; bigger is refused. */
  static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
  /** distribution answers 404 for OCI manifests unless the client says it accepts them. */
  private static final String ACCEPT = String.join(", ", Manifest.OCI_MANIFEST,
      Manifest.OCI_INDEX, Manifest.DOCKER_MANIFEST, Manifest.DOCKER_MANIFEST_LIST);

  private final RegistryAccess access;

  ManifestPuller(RegistryAccess access) {
    this.access = access;
  }

  /** The request for {@code ref}'s manifest; a HEAD ({@link ManifestHead}) asks the same. */
  static RegistryTransport.Call request(RegistryAccess access, String method, Reference ref,
      String subject) throws RegistryException {
    return new RegistryTransport.Call(method, access.url(ref, "/manifests/" + ref.identifier()),
        ref.registry(), RegistryAccess.pullScope(ref), Map.of("Accept", ACCEPT),
        RequestBody.EMPTY, true, subject);
  }

  /** The image manifest {@code ref} names, an index resolved to its model entry. */
  ResolvedManifest fetch(Reference ref) throws RegistryException {
    ResolvedManifest top = fetchOne(ref);
    if (!top.manifest().isIndex()) {
      return top;
    }
    Descriptor child = ManifestSelector.select(ref.toString(), top.manifest());
    Reference childRef;
    try {
      childRef = ref.withDigest(child.digest());
    } catch (IllegalArgumentException e) {
      throw new RegistryException(Kind.INVALID_CONTENT,
          "index " + ref + " has an entry with an invalid digest: " + e.getMessage());
    }
    ResolvedManifest resolved = fetchOne(childRef);
    if (resolved.manifest().isIndex()) {
      // Valid OCI, but not an artifact this driver serves: like a manifest that is no model.
      throw new RegistryException(Kind.INVALID_ARGUMENT,
          "index " + ref + " points to another index " + child.digest()
              + "; nested indexes are not supported");
    }
    return new ResolvedManifest(resolved.reference(), resolved.digest(), resolved.manifest(),
        resolved.raw(), top.digest());
  }

  /** The manifest or index {@code ref} names, verified but not resolved further. */
  ResolvedManifest fetchOne(Reference ref) throws RegistryException {
    String subject = "manifest " + ref;
    RegistryResponse resp = access.transport().send(request(access, "GET", ref, subject));
    byte[] raw = readBody(resp, subject);
    String digest = verifiedDigest(ref, raw, subject);
    Manifest manifest = parse(raw, resp, subject);
    LOG.debug("fetched {} ({} bytes, {})", subject, raw.length, digest);
    return new ResolvedManifest(ref.withDigest(digest), digest, manifest, raw);
  }

  /** The body of a 200 answer, one byte over the cap at most (so that too big shows). */
  private static byte[] readBody(RegistryResponse resp, String subject)
      throws RegistryException {
    byte[] raw;
    try {
      if (resp.statusCode() != 200) {
        throw RegistryErrors.fromResponse(subject, resp.statusCode(),
            RegistryTransport.readCapped(resp, RegistryTransport.MAX_ERROR_BODY));
      }
      raw = RegistryTransport.readCapped(resp, MAX_MANIFEST_BYTES + 1);
    } catch (RegistryException e) {
      throw e;
    } catch (IOException e) {
      throw new RegistryException(Kind.UNAVAILABLE, subject + ": reading the answer failed ("
          + e + ")", e);
    }
    if (raw.length > MAX_MANIFEST_BYTES) {
      throw new RegistryException(Kind.INVALID_CONTENT,
          subject + " is larger than " + MAX_MANIFEST_BYTES + " bytes");
    }
    return raw;
  }

  /**
   * The digest of {@code raw}: in the algorithm of the digest {@code ref} names, which it must
   * match, else sha256.
   */
  private static String verifiedDigest(Reference ref, byte[] raw, String subject)
      throws RegistryException {
    if (ref.digest() == null) {
      return sha256Of(raw).toString();
    }
    Digest expected = Digest.parse(ref.digest());
    byte[] hash = expected.newHasher().digest(raw);
    String digest = expected.algorithm() + ":" + HexFormat.of().formatHex(hash);
    if (!expected.matches(hash)) {
      throw new RegistryException(Kind.INVALID_CONTENT,
          subject + " has digest " + digest + ", not the requested " + expected);
    }
    return digest;
  }

  private static Manifest parse(byte[] raw, RegistryResponse resp, String subject)
      throws RegistryException {
    Manifest manifest;
    try {
      manifest = Manifest.parse(raw);
    } catch (IOException e) {
      throw new RegistryException(Kind.INVALID_CONTENT, subject + " is not valid manifest JSON");
    }
    if (manifest == null || manifest.schemaVersion() != 2) {
      throw new RegistryException(Kind.INVALID_CONTENT, subject
          + " has unsupported schemaVersion " + (manifest == null ? "?" : manifest.schemaVersion()));
    }
    if (manifest.mediaType() == null) {
      // mediaType is optional in the body; the Content-Type header then tells what it is.
      String ct = resp.headers().firstValue("Content-Type").orElse("").split(";")[0].trim();
      manifest = new Manifest(manifest.schemaVersion(), ct.isEmpty() ? null : ct,
          manifest.artifactType(), manifest.config(), manifest.layers(), manifest.manifests(),
          manifest.annotations());
    }
    if (!manifest.isIndex() && manifest.config() == null) {
      throw new RegistryException(Kind.INVALID_CONTENT, subject + " has no config descriptor");
    }
    return manifest;
  }

  /** The sha256 digest of {@code bytes}: a manifest's digest when nothing names another. */
  static Digest sha256Of(byte[] bytes) {
    try {
      return Digest.sha256(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
