package org.modelpack.csi.registry;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProxySelector;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.modelpack.csi.registry.auth.Authenticator;
import org.modelpack.csi.registry.auth.DockerConfigCredentials;
import org.modelpack.csi.registry.auth.HttpTokenEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls (and, for tests and the {@code push} command, pushes) OCI artifacts over the
 * distribution HTTP API. Thread-safe: one instance serves concurrent layer downloads.
 */
public final class RegistryClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryClient.class);
  /** The distribution spec's portability floor for manifests; bigger is refused. */
  static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
  private static final int MAX_ERROR_BODY = 64 * 1024;
  private static final int COPY_BUFFER = 256 * 1024;
  /** distribution answers 404 for OCI manifests unless the client says it accepts them. */
  private static final String MANIFEST_ACCEPT = String.join(", ", Manifest.OCI_MANIFEST,
      Manifest.OCI_INDEX, Manifest.DOCKER_MANIFEST, Manifest.DOCKER_MANIFEST_LIST);
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final RegistrySettings settings;
  private final DockerConfigCredentials credentials;
  private final ExecutorService executor;
  private final RegistryTransport transport;
  private final Map<String, String> schemeByRegistry = new ConcurrentHashMap<>();

  public RegistryClient(RegistrySettings settings) {
    this(settings, new DockerConfigCredentials(settings.dockerConfigDir()));
  }

  /** With an explicit credential source (tests inject helper search directories this way). */
  public RegistryClient(RegistrySettings settings, DockerConfigCredentials credentials) {
    this.settings = settings;
    this.credentials = credentials;
    // Own executor so close() can release the client's threads (JDK 17 HttpClient has no close).
    this.executor = Executors.newCachedThreadPool(DaemonThreads.named("registry-http"));
    HttpClient.Builder b = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(settings.connectTimeout())
        .executor(executor);
    if (settings.proxyAddress() != null) {
      b.proxy(ProxySelector.of(settings.proxyAddress()));
    }
    HttpClient http = b.build();
    Authenticator auth = new Authenticator(credentials,
        new HttpTokenEndpoint(http, settings.userAgent()), Clock.systemUTC());
    this.transport = new RegistryTransport(auth, settings.userAgent(),
        settings.proxyAddress() == null ? null
            : new java.net.Proxy(java.net.Proxy.Type.HTTP, settings.proxyAddress()),
        settings.connectTimeout());
  }

  // ---------------------------------------------------------------- manifests

  /**
   * Fetches and verifies the manifest {@code ref} names. An index is resolved to its model
   * entry (see {@link ManifestSelector}) and that child is fetched by digest.
   */
  public ResolvedManifest fetchManifest(Reference ref) throws RegistryException {
    ResolvedManifest top = fetchSingleManifest(ref);
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
    ResolvedManifest resolved = fetchSingleManifest(childRef);
    if (resolved.manifest().isIndex()) {
      throw new RegistryException(Kind.INVALID_CONTENT,
          "index " + ref + " points to another index " + child.digest()
              + "; nested indexes are not supported");
    }
    return resolved;
  }

  private ResolvedManifest fetchSingleManifest(Reference ref) throws RegistryException {
    String subject = "manifest " + ref;
    RegistryResponse resp = transport.send(new RegistryTransport.Call("GET",
        url(ref, "/manifests/" + ref.identifier()), ref.registry(), pullScope(ref),
        Map.of("Accept", MANIFEST_ACCEPT), RequestBody.EMPTY, true, subject));
    byte[] raw;
    try {
      if (resp.statusCode() != 200) {
        throw RegistryErrors.fromResponse(subject,
            resp.statusCode(), RegistryTransport.readCapped(resp, MAX_ERROR_BODY));
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
    Digest expected = ref.digest() != null ? Digest.parse(ref.digest()) : null;
    byte[] hash = expected != null ? expected.newHasher().digest(raw) : sha256(raw);
    String digest = (expected != null ? expected.algorithm() : "sha256") + ":"
        + HexFormat.of().formatHex(hash);
    if (expected != null && !expected.matches(hash)) {
      throw new RegistryException(Kind.INVALID_CONTENT,
          subject + " has digest " + digest + ", not the requested " + expected);
    }
    Manifest manifest;
    try {
      manifest = JSON.readValue(raw, Manifest.class);
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
    LOG.debug("fetched {} ({} bytes, {})", subject, raw.length, digest);
    return new ResolvedManifest(ref.withDigest(digest), digest, manifest, raw);
  }

  // ---------------------------------------------------------------- blobs

  /**
   * Streams blob {@code blob} of {@code ref}'s repository into {@code destination} (created or
   * truncated), verifying size and digest in the same pass and syncing to disk. On a size or
   * digest mismatch, or if the transfer breaks, {@code destination} is deleted: a half-written or
   * wrong file must never look like content.
   *
   * @throws RegistryException for registry and content problems
   * @throws IOException for local file-system problems (disk full, permissions)
   */
  public void downloadBlob(Reference ref, Descriptor blob, Path destination) throws IOException {
    Digest digest = parseDigest(blob.digest());
    String subject = "blob " + digest + " in " + ref.name();
    if (blob.size() < 0) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, subject + " has negative size");
    }
    RegistryResponse resp = transport.send(new RegistryTransport.Call("GET",
        url(ref, "/blobs/" + digest), ref.registry(), pullScope(ref), Map.of(),
        RequestBody.EMPTY, true, subject));
    if (resp.statusCode() != 200) {
      byte[] body = readQuietly(resp);
      throw RegistryErrors.fromResponse(subject, resp.statusCode(), body);
    }
    boolean ok = false;
    try (InputStream in = resp.body()) {
      long announced = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (announced >= 0 && announced != blob.size()) {
        throw new RegistryException(Kind.INVALID_CONTENT, subject + ": registry announced "
            + announced + " bytes but the descriptor says " + blob.size());
      }
      MessageDigest hasher = digest.newHasher();
      long written = copy(in, destination, hasher, blob.size(), subject);
      byte[] hash = hasher.digest();
      if (written != blob.size() || !digest.matches(hash)) {
        throw new RegistryException(Kind.INVALID_CONTENT, subject + " failed verification: "
            + "expected " + blob.size() + " bytes with digest " + digest + ", got "
            + (written > blob.size() ? "more than " + blob.size() : written)
            + " bytes with digest " + digest.algorithm() + ":" + HexFormat.of().formatHex(hash));
      }
      ok = true;
    } finally {
      if (!ok) {
        Files.deleteIfExists(destination);
      }
    }
  }

  /**
   * Copies at most {@code limit + 1} bytes (one extra byte proves the body is too long without
   * writing an unbounded amount) and forces the data to disk.
   */
  private static long copy(InputStream in, Path destination, MessageDigest hasher, long limit,
      String subject) throws IOException {
    byte[] buf = new byte[COPY_BUFFER];
    long total = 0;
    try (FileChannel out = FileChannel.open(destination, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      while (total <= limit) {
        int n;
        try {
          n = in.read(buf, 0, (int) Math.min(buf.length, limit + 1 - total));
        } catch (IOException e) {
          throw new RegistryException(Kind.UNAVAILABLE,
              subject + ": transfer broke after " + total + " bytes (" + e + ")", e);
        }
        if (n < 0) {
          break;
        }
        hasher.update(buf, 0, n);
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
        while (bb.hasRemaining()) {
          out.write(bb);
        }
        total += n;
      }
      out.force(true);
    }
    return total;
  }

  // ---------------------------------------------------------------- push

  /**
   * Uploads {@code file} as blob {@code digest} into {@code repo}'s repository unless the
   * registry already has it (monolithic POST + PUT; the file is streamed with a known length).
   */
  public void pushBlob(Reference repo, Path file, String digest) throws RegistryException {
    Digest d = parseDigest(digest);
    String subject = "blob " + d + " in " + repo.name();
    List<String> scopes = pushScope(repo);
    RegistryResponse head = transport.send(new RegistryTransport.Call("HEAD",
        url(repo, "/blobs/" + d), repo.registry(), scopes, Map.of(),
        RequestBody.EMPTY, true, subject));
    readQuietly(head);
    if (head.statusCode() == 200) {
      return;
    }
    if (head.statusCode() != 404) {
      throw RegistryErrors.fromResponse(subject, head.statusCode(), new byte[0]);
    }
    RegistryResponse post = transport.send(new RegistryTransport.Call("POST",
        url(repo, "/blobs/uploads/"), repo.registry(), scopes, Map.of(),
        RequestBody.EMPTY, false, "upload of " + subject));
    byte[] postBody = readQuietly(post);
    String location = post.headers().firstValue("Location").orElse(null);
    if (post.statusCode() != 202 || location == null) {
      throw RegistryErrors.fromResponse("upload of " + subject, post.statusCode(), postBody);
    }
    URI upload = post.uri().resolve(location);
    String sep = upload.getRawQuery() == null ? "?" : "&";
    URI put = URI.create(upload + sep + "digest="
        + URLEncoder.encode(d.toString(), StandardCharsets.UTF_8));
    RequestBody body;
    try {
      body = RequestBody.ofFile(file);
    } catch (IOException e) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, "file " + file + " cannot be read", e);
    }
    RegistryResponse resp = transport.send(new RegistryTransport.Call("PUT", put,
        repo.registry(), scopes, Map.of("Content-Type", "application/octet-stream"), body, false,
        "upload of " + subject));
    byte[] respBody = readQuietly(resp);
    if (resp.statusCode() != 201) {
      throw RegistryErrors.fromResponse("upload of " + subject, resp.statusCode(), respBody);
    }
  }

  /**
   * Uploads a manifest under {@code ref}'s tag (or, without a tag, its digest) and returns its
   * sha256 digest. The registry stores these exact bytes.
   */
  public String pushManifest(Reference ref, byte[] manifestJson, String mediaType)
      throws RegistryException {
    String digest = Digest.sha256(sha256(manifestJson)).toString();
    if (ref.digest() != null && !ref.digest().equals(digest)) {
      throw new RegistryException(Kind.INVALID_ARGUMENT,
          "manifest bytes have digest " + digest + ", not " + ref.digest());
    }
    String identifier = ref.tag() != null ? ref.tag() : digest;
    String subject = "manifest " + ref.name() + (ref.tag() != null ? ":" : "@") + identifier;
    RegistryResponse resp = transport.send(new RegistryTransport.Call("PUT",
        url(ref, "/manifests/" + identifier), ref.registry(), pushScope(ref),
        Map.of("Content-Type", mediaType), RequestBody.of(manifestJson),
        false, "upload of " + subject));
    byte[] body = readQuietly(resp);
    if (resp.statusCode() != 201) {
      throw RegistryErrors.fromResponse("upload of " + subject, resp.statusCode(), body);
    }
    String answered = resp.headers().firstValue("Docker-Content-Digest").orElse(digest);
    if (!answered.equals(digest)) {
      throw new RegistryException(Kind.INVALID_CONTENT, "upload of " + subject
          + ": registry stored digest " + answered + " instead of " + digest);
    }
    return digest;
  }

  // ---------------------------------------------------------------- helpers

  private URI url(Reference ref, String suffix) throws RegistryException {
    return URI.create(scheme(ref) + "://" + ref.apiHost() + "/v2/" + ref.repository() + suffix);
  }

  /** See docs/decisions/0102: loopback, configured hosts and serverscheme=http use HTTP. */
  private String scheme(Reference ref) throws RegistryException {
    String cached = schemeByRegistry.get(ref.registry());
    if (cached != null) {
      return cached;
    }
    boolean plain = settings.plainHttpConfigured(ref.apiHost())
        || settings.plainHttpConfigured(ref.registry())
        || credentials.serverScheme(ref.registry()).filter("http"::equals).isPresent();
    String scheme = plain ? "http" : "https";
    schemeByRegistry.put(ref.registry(), scheme);
    return scheme;
  }

  private static List<String> pullScope(Reference ref) {
    return List.of("repository:" + ref.repository() + ":pull");
  }

  private static List<String> pushScope(Reference ref) {
    return List.of("repository:" + ref.repository() + ":pull,push");
  }

  private static Digest parseDigest(String digest) throws RegistryException {
    try {
      return Digest.parse(digest);
    } catch (IllegalArgumentException e) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, e.getMessage(), e);
    }
  }

  private static byte[] readQuietly(RegistryResponse resp) {
    try {
      return RegistryTransport.readCapped(resp, MAX_ERROR_BODY);
    } catch (IOException e) {
      return new byte[0];
    }
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
