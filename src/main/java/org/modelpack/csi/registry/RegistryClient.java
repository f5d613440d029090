package org.modelpack.csi.registry;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.registry.auth.CredentialStore;
import org.modelpack.csi.registry.auth.DockerConfigCredentials;

/**
 * Pulls (and, for tests and the {@code push} command, pushes) OCI artifacts over the
 * distribution HTTP API. Thread-safe: one instance serves concurrent layer downloads.
 *
 * <p>A facade: each protocol step is a class of its own ({@link ManifestPuller}, {@link
 * ManifestHead}, {@link BlobPuller}, {@link BlobPusher}, {@link ManifestPusher}, {@link
 * AnonymousReadProbe}), made per call from the {@link RegistryAccess} it shares, which holds the
 * settings, credentials, threads and transport.
 */
public final class RegistryClient implements AutoCloseable {
  private final RegistryAccess access;

  public RegistryClient(RegistrySettings settings) {
    this(settings, new DockerConfigCredentials(settings.dockerConfigDir()));
  }

  /** With an explicit credential source (tests inject helper search directories this way). */
  public RegistryClient(RegistrySettings settings, DockerConfigCredentials credentials) {
    this(settings, credentials, Sleeper.SYSTEM);
  }

  /** With an injected {@link Sleeper} for retry waits (tests record them instead of waiting). */
  public RegistryClient(RegistrySettings settings, DockerConfigCredentials credentials,
      Sleeper sleeper) {
    this(RegistryAccess.create(settings, credentials, sleeper));
  }

  private RegistryClient(RegistryAccess access) {
    this.access = access;
  }

  /**
   * A client that authenticates with {@code credentials} (a pod's own, say) and keeps its own
   * token cache, sharing this client's settings and threads. Closing it releases nothing shared.
   */
  public RegistryClient withCredentials(CredentialStore credentials) {
    return new RegistryClient(access.withCredentials(credentials));
  }

  /** The same client making one attempt per request: for callers with a fallback of their own. */
  public RegistryClient withoutRetries() {
    return new RegistryClient(access.withoutRetries());
  }

  /** The node's own credentials, for a pod's to fall back on. */
  /** Retries and resumes of this client and those derived from it, by cause. */
  public RegistryStats stats() {
    return access.stats();
  }

  public CredentialStore nodeCredentials() {
    return access.nodeCredentials();
  }

  /**
   * Whether {@code ref}'s manifest can be read with no credentials at all. Used to decide if a
   * model may be served from the store without the registry: only anonymously readable ones.
   */
  public boolean readableAnonymously(Reference ref) {
    return new AnonymousReadProbe(access).readable(ref);
  }

  // ---------------------------------------------------------------- manifests

  /**
   * Fetches and verifies the manifest {@code ref} names. An index is resolved to its model
   * entry (see {@link ManifestSelector}) and that child is fetched by digest.
   */
  public ResolvedManifest fetchManifest(Reference ref) throws RegistryException {
    return new ManifestPuller(access).fetch(ref);
  }

  /**
   * The digest of the manifest {@code ref} names, as the registry states it in the
   * Docker-Content-Digest header of a HEAD answer; empty when it sends none (the header is a
   * SHOULD in the distribution spec). No body is read, hashed or parsed, so this is the cheap
   * way to learn whether a tag still names a manifest already known. It takes the registry's
   * word, as a fetch by tag does for which manifest the tag names; the content behind the
   * digest must be verified by whoever uses it.
   */
  public Optional<String> headManifestDigest(Reference ref) throws RegistryException {
    return new ManifestHead(access).digest(ref);
  }

  // ---------------------------------------------------------------- blobs

  /**
   * Streams blob {@code blob} of {@code ref}'s repository into {@code destination} (created or
   * truncated), verifying size and digest and syncing to disk. On a size or digest mismatch, or
   * if the transfer fails for good, {@code destination} is deleted: a half-written or wrong file
   * must never look like content.
   *
   * <p>Resilience (docs/decisions/0301-0304): a broken or stalled transfer is resumed with
   * {@code Range: bytes=<written>-}, the digest state carried on; each try asks the registry URL
   * afresh (never an old redirect target, which may have expired); a registry that ignores
   * {@code Range} makes the blob start over. Blobs above {@link
   * RegistrySettings#parallelThreshold} are fetched as several ranges at once. A digest mismatch
   * is downloaded once more from the start before it is reported.
   *
   * @throws RegistryException for registry and content problems
   * @throws IOException for local file-system problems (disk full, permissions)
   */
  public void downloadBlob(Reference ref, Descriptor blob, Path destination) throws IOException {
    new BlobPuller(access).download(ref, blob, destination);
  }

  /**
   * As above, into {@code out}, which hashes what it is given: the layer store's ingest, which
   * checks the digest itself. A failed download leaves {@code out} to its owner.
   */
  public void downloadBlob(Reference ref, Descriptor blob, BlobWriter out) throws IOException {
    new BlobPuller(access).download(ref, blob, out);
  }

  // ---------------------------------------------------------------- push

  /**
   * Uploads {@code file} as blob {@code digest} into {@code repo}'s repository unless the
   * registry already has it (monolithic POST + PUT; the file is streamed with a known length).
   */
  public void pushBlob(Reference repo, Path file, String digest) throws RegistryException {
    new BlobPusher(access).push(repo, file, digest);
  }

  /**
   * Uploads a manifest under {@code ref}'s tag (or, without a tag, its digest) and returns its
   * sha256 digest. The registry stores these exact bytes.
   */
  public String pushManifest(Reference ref, byte[] manifestJson, String mediaType)
      throws RegistryException {
    return new ManifestPusher(access).push(ref, manifestJson, mediaType);
  }

  @Override
  public void close() {
    access.close();
  }
}
