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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.modelpack.csi.concurrent.DaemonThreads;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.modelpack.csi.registry.auth.Authenticator;
import org.modelpack.csi.registry.auth.CredentialStore;
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
  private static final int COPY_BUFFER = 256 * 1024;
  private static final int HASH_BUFFER = 1024 * 1024;
  private static final long MIN_CHUNK = 1L << 20;
  private static final long MAX_CHUNK = 64L << 20;
  /** Chunks of one blob at most (each is an object with its own retrier); bigger chunks then. */
  static final int MAX_CHUNKS = 1 << 16;
  /** Safety net only: writers notify the in-order hasher after every write. */
  private static final long PROGRESS_POLL_MS = 200;
  /** Complete downloads of a blob whose digest does not match before that is reported. */
  private static final int VERIFY_ROUNDS = 2;
  private static final java.util.regex.Pattern CONTENT_RANGE =
      java.util.regex.Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)");

  private final RegistryAccess access;
  private final RegistrySettings settings;
  private final ExecutorService executor;
  private final RegistryTransport transport;

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
    this.settings = access.settings();
    this.executor = access.executor();
    this.transport = access.transport();
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
    Digest digest = RegistryErrors.parseDigest(blob.digest());
    String subject = "blob " + digest + " in " + ref.name();
    if (blob.size() < 0) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, subject + " has negative size");
    }
    if (blob.size() > Descriptor.MAX_SIZE) {
      throw new RegistryException(Kind.INVALID_ARGUMENT, subject + " declares " + blob.size()
          + " bytes, more than the " + Descriptor.MAX_SIZE + " a blob may have");
    }
    BlobFetch fetch = new BlobFetch(ref, access.url(ref, "/blobs/" + digest), digest, blob.size(),
        destination, subject);
    boolean ok = false;
    try {
      for (int round = 1; ; round++) {
        byte[] hash = fetch.once();
        if (digest.matches(hash)) {
          ok = true;
          return;
        }
        String message = subject + " failed verification: expected digest " + digest
            + ", got " + digest.algorithm() + ":" + HexFormat.of().formatHex(hash);
        if (round >= VERIFY_ROUNDS) {
          throw new RegistryException(Kind.INVALID_CONTENT, message + " (" + round
              + " complete downloads)");
        }
        LOG.warn("{}; downloading it once more from the start", message);
      }
    } finally {
      if (!ok) {
        Files.deleteIfExists(destination);
      }
    }
  }

  /** The registry did not answer a ranged part request with 206: fall back to one stream. */
  private static final class RangeIgnored extends IOException {
    RangeIgnored(String message) {
      super(message);
    }
  }

  /** One blob download: whole-file tries, each either one stream or several ranges. */
  private final class BlobFetch {
    private final Reference ref;
    private final URI uri;
    private final Digest digest;
    private final long size;
    private final Path destination;
    private final String subject;

    BlobFetch(Reference ref, URI uri, Digest digest, long size, Path destination,
        String subject) {
      this.ref = ref;
      this.uri = uri;
      this.digest = digest;
      this.size = size;
      this.destination = destination;
      this.subject = subject;
    }

    /** Downloads the whole blob into a truncated file, forces it and returns its hash. */
    byte[] once() throws IOException {
      long threshold = settings.parallelThreshold();
      int connections = (int) Math.min(settings.parallelConnections(), Math.max(1, size));
      if (threshold > 0 && size > threshold && connections > 1) {
        byte[] hash = parallel(connections);
        if (hash != null) {
          return hash;
        }
      }
      try (FileChannel out = open()) {
        MessageDigest hasher = digest.newHasher();
        new Range(this, out, 0, size, false, hasher, transport.retrier(subject), () -> false)
            .fetch(null);
        out.force(true);
        return hasher.digest();
      }
    }

    private FileChannel open() throws IOException {
      return FileChannel.open(destination, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /**
     * Fetches the blob as consecutive chunks over {@code connections} connections, each chunk
     * written at its offset and retried/resumed on its own, while this thread hashes the file in
     * order behind the contiguous written prefix (docs/decisions/0304). Returns null, having
     * written nothing that matters, when the registry does not honour {@code Range}.
     */
    private byte[] parallel(int connections) throws IOException {
      long chunk = chunkSize(size, connections);
      int count = chunkCount(size, chunk);
      AtomicBoolean abort = new AtomicBoolean();
      Object progress = new Object();
      Runnable wrote = () -> {
        synchronized (progress) {
          progress.notifyAll();
        }
      };
      Range[] chunks = new Range[count];
      for (int i = 0; i < count; i++) {
        chunks[i] = new Range(this, null, i * chunk, Math.min(size, (i + 1) * chunk), true,
            null, transport.retrier(subject + " bytes " + i * chunk + "+"), abort::get);
      }
      List<Future<Void>> workers = new ArrayList<>();
      try (FileChannel out = open()) {
        for (Range r : chunks) {
          r.bind(out, wrote);
        }
        // The first chunk probes: only a 206 proves the registry serves ranges.
        RegistryResponse probe = chunks[0].request();
        if (probe.statusCode() == 200) {
          LOG.info("{}: the registry ignores Range; downloading it as one stream", subject);
          MessageDigest hasher = digest.newHasher();
          new Range(this, out, 0, size, false, hasher, transport.retrier(subject), () -> false)
              .fetch(probe);
          out.force(true);
          return hasher.digest();
        }
        if (probe.statusCode() != 206) {
          // 404, 401, 5xx after retries...: report it from here, before more connections ask.
          chunks[0].fetch(probe);
          throw new RegistryException(Kind.INVALID_CONTENT, subject + ": HTTP "
              + probe.statusCode() + " to a range request");
        }
        AtomicInteger next = new AtomicInteger(1);
        for (int w = 0; w < Math.min(connections, count); w++) {
          RegistryResponse first = w == 0 ? probe : null;
          workers.add(executor.submit(() -> {
            try {
              if (first != null) {
                chunks[0].fetch(first);
              }
              for (int i; (i = next.getAndIncrement()) < count && !abort.get(); ) {
                chunks[i].fetch(null);
              }
              return null;
            } catch (IOException | RuntimeException e) {
              abort.set(true);
              throw e;
            } finally {
              wrote.run(); // wake the hasher to notice the end or the failure
            }
          }));
        }
        byte[] hash = hashInOrder(out, chunks, progress, abort);
        IOException failure = awaitParts(workers, abort);
        if (failure instanceof RangeIgnored) {
          LOG.info("{}: {}; downloading it as one stream", subject, failure.getMessage());
          return null;
        }
        if (failure != null) {
          throw failure;
        }
        if (hash == null) {
          throw new RegistryException(Kind.UNAVAILABLE, subject + ": download stopped early");
        }
        out.force(true);
        return hash;
      }
    }

    /**
     * Hashes the file from the start up to the end of the contiguous completed prefix, waiting
     * for the chunks to fill in. Returns null when the download was aborted first.
     */
    private byte[] hashInOrder(FileChannel in, Range[] chunks, Object progress,
        AtomicBoolean abort) throws IOException {
      MessageDigest hasher = digest.newHasher();
      ByteBuffer buf = ByteBuffer.allocate(HASH_BUFFER);
      long hashed = 0;
      int current = 0;
      while (hashed < size) {
        while (current < chunks.length && chunks[current].complete()) {
          current++;
        }
        long frontier = current < chunks.length ? chunks[current].position() : size;
        if (frontier <= hashed) {
          synchronized (progress) {
            if (abort.get()) {
              return null;
            }
            if ((current < chunks.length ? chunks[current].position() : size) <= hashed
                && !(current < chunks.length && chunks[current].complete())) {
              try {
                progress.wait(PROGRESS_POLL_MS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort.set(true);
                return null;
              }
            }
          }
          continue;
        }
        while (hashed < frontier) {
          buf.clear();
          buf.limit((int) Math.min(buf.capacity(), frontier - hashed));
          int n = in.read(buf, hashed);
          if (n <= 0) {
            throw new IOException(destination + " is shorter than the " + frontier
                + " bytes written to it");
          }
          buf.flip();
          hasher.update(buf);
          hashed += n;
        }
      }
      return hasher.digest();
    }

    /**
     * Waits for every part, also after one failed (the others are told to stop, and a part
     * must not write into the file after this method returned). Returns the first failure.
     */
    private IOException awaitParts(List<Future<Void>> parts, AtomicBoolean abort)
        throws IOException {
      IOException failure = null;
      boolean interrupted = false;
      for (Future<Void> f : parts) {
        while (true) {
          try {
            f.get();
            break;
          } catch (InterruptedException e) {
            interrupted = true;
            abort.set(true);
          } catch (ExecutionException e) {
            abort.set(true);
            Throwable c = e.getCause();
            if (failure == null || failure instanceof PartAborted) {
              failure = c instanceof IOException io ? io
                  : new IOException(subject + ": " + c, c);
            }
            break;
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
        throw new RegistryException(Kind.UNAVAILABLE, subject + ": download was interrupted");
      }
      return failure;
    }
  }

  /**
   * Chunk size of a parallel download: about eight chunks per connection, so that the in-order
   * hasher trails the download closely and a slow connection only holds back its own chunk;
   * between 1 MiB and 64 MiB (docs/decisions/0304), and larger when that would make more than
   * {@link #MAX_CHUNKS} chunks (a blob over 4 TiB), so the count always fits an array.
   */
  static long chunkSize(long size, int connections) {
    long target = ceilDiv(size, connections * 8L);
    long chunk = Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, target));
    return Math.max(chunk, ceilDiv(size, MAX_CHUNKS));
  }

  /** Chunks of {@code chunk} bytes that cover {@code size} bytes; at most {@link #MAX_CHUNKS}. */
  static int chunkCount(long size, long chunk) {
    return Math.toIntExact(ceilDiv(size, chunk));
  }

  /** {@code ⌈a / b⌉} for {@code a ≥ 0, b > 0}, without the overflow of {@code (a + b - 1) / b}. */
  private static long ceilDiv(long a, long b) {
    return a / b + (a % b == 0 ? 0 : 1);
  }

  /** A part stopped because another part failed. */
  private static final class PartAborted extends IOException {
    PartAborted() {
      super("aborted because another part failed");
    }
  }

  /**
   * Bytes {@code [start, end)} of a blob, fetched into {@code out} at their offsets and resumed
   * after breaks. With {@code hasher} the bytes are hashed in order as they arrive (one stream);
   * a {@code part} must be answered with 206, a whole-blob fetch may get 200 and starts over then.
   */
  private final class Range {
    private final BlobFetch blob;
    private FileChannel out;
    private Runnable wrote = () -> { };
    private final long start;
    private final long end;
    private final boolean part;
    private final MessageDigest hasher;
    private final Retrier retrier;
    private final java.util.function.BooleanSupplier aborted;
    /** Next blob offset to fetch; written by one thread, read by the in-order hasher. */
    private volatile long pos;

    Range(BlobFetch blob, FileChannel out, long start, long end, boolean part,
        MessageDigest hasher, Retrier retrier, java.util.function.BooleanSupplier aborted) {
      this.blob = blob;
      this.out = out;
      this.start = start;
      this.end = end;
      this.part = part;
      this.hasher = hasher;
      this.retrier = retrier;
      this.aborted = aborted;
      this.pos = start;
    }

    /** Sets the file and a callback run after every write (parallel chunks). */
    void bind(FileChannel file, Runnable onWrite) {
      this.out = file;
      this.wrote = onWrite;
    }

    long position() {
      return pos;
    }

    boolean complete() {
      return pos >= end;
    }

    /** Asks the registry (not a redirect target of an earlier try) for the missing bytes. */
    RegistryResponse request() throws RegistryException {
      Map<String, String> headers;
      if (!part && pos == 0) {
        headers = Map.of();
      } else if (end == blob.size) {
        headers = Map.of("Range", "bytes=" + pos + "-");
      } else {
        headers = Map.of("Range", "bytes=" + pos + "-" + (end - 1));
      }
      return transport.send(new RegistryTransport.Call("GET", blob.uri, blob.ref.registry(),
          RegistryAccess.pullScope(blob.ref), headers, RequestBody.EMPTY, true, blob.subject), retrier);
    }

    /** Fetches until the range is complete; {@code first} is an already-sent answer or null. */
    void fetch(RegistryResponse first) throws IOException {
      RegistryResponse resp = first;
      while (true) {
        if (aborted.getAsBoolean()) {
          if (resp != null) {
            resp.close();
          }
          throw new PartAborted();
        }
        if (resp == null) {
          resp = request();
        }
        long limit = accept(resp);
        if (limit < 0) {
          return; // 416 at the end: verification decides
        }
        try (InputStream in = resp.body()) {
          if (copy(in, limit)) {
            return;
          }
        }
        resp = null;
      }
    }

    /**
     * Checks an answer and returns the blob offset its body ends at (exclusive); -1 for a 416
     * that leaves the verification to decide.
     */
    private long accept(RegistryResponse resp) throws IOException {
      int status = resp.statusCode();
      long announced = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
      boolean asked = part || pos > 0;
      if (status == 200) {
        if (part) {
          resp.close();
          throw new RangeIgnored("the registry answered a range request with 200");
        }
        if (announced >= 0 && announced != blob.size) {
          resp.close();
          throw new RegistryException(Kind.INVALID_CONTENT, blob.subject
              + ": registry announced " + announced + " bytes but the descriptor says "
              + blob.size);
        }
        if (pos > 0) {
          LOG.info("{}: the registry ignored Range at {}; starting over", blob.subject, pos);
          out.truncate(0);
          hasher.reset();
          pos = 0;
        }
        return blob.size + 1; // one extra byte proves the body is too long
      }
      if (status == 206 && asked) {
        long[] cr = contentRange(resp.headers().firstValue("Content-Range").orElse(null));
        if (cr != null && cr[2] >= 0 && cr[2] != blob.size) {
          resp.close();
          throw new RegistryException(Kind.INVALID_CONTENT, blob.subject + ": registry says the "
              + "blob has " + cr[2] + " bytes but the descriptor says " + blob.size);
        }
        if (cr == null || cr[0] != pos || cr[1] < pos || cr[1] >= end
            || (cr[2] >= 0 && cr[2] != blob.size)
            || (announced >= 0 && announced != cr[1] - cr[0] + 1)) {
          resp.close();
          String why = "206 with Content-Range '"
              + resp.headers().firstValue("Content-Range").orElse("") + "' for a request from "
              + pos;
          if (retrier.failedTry(why, null)) {
            return accept(request());
          }
          throw new RegistryException(Kind.INVALID_CONTENT, blob.subject + ": " + why);
        }
        return cr[1] + 1;
      }
      if (status == 416 && asked && pos >= blob.size) {
        resp.close();
        return -1;
      }
      byte[] body = RegistryTransport.readQuietly(resp);
      throw RegistryErrors.fromResponse(blob.subject, status, body);
    }

    /**
     * Copies the body up to blob offset {@code limit}. True when the range is complete; false
     * when the transfer broke and a retry is due (the budget allowing).
     */
    private boolean copy(InputStream in, long limit) throws IOException {
      byte[] buf = new byte[COPY_BUFFER];
      boolean moved = false;
      while (pos < limit) {
        if (aborted.getAsBoolean()) {
          throw new PartAborted();
        }
        if (Thread.currentThread().isInterrupted()) {
          throw new RegistryException(Kind.UNAVAILABLE, blob.subject + ": download was "
              + "interrupted after " + pos + " bytes");
        }
        int n;
        try {
          n = in.read(buf, 0, (int) Math.min(buf.length, limit - pos));
        } catch (IOException e) {
          return broke(e.toString());
        }
        if (n < 0) {
          break;
        }
        if (n > 0 && !moved) {
          moved = true;
          retrier.progressed();
        }
        if (hasher != null) {
          hasher.update(buf, 0, n);
        }
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
        long at = pos;
        while (bb.hasRemaining()) {
          at += out.write(bb, at);
        }
        pos += n;
        wrote.run();
      }
      if (!part && pos > blob.size) {
        throw new RegistryException(Kind.INVALID_CONTENT, blob.subject + " failed verification: "
            + "the registry sent more than the " + blob.size + " bytes of the descriptor");
      }
      if (pos >= end) {
        return true;
      }
      if (pos < limit) {
        return broke("connection closed early");
      }
      return false; // a shorter 206 than asked for: ask for the rest
    }

    private boolean broke(String why) throws RegistryException {
      String message = "transfer broke after " + (pos - start) + " of " + (end - start)
          + " bytes" + (part ? " of the range from " + start : "") + " (" + why + ")";
      if (retrier.failedTry(message, null)) {
        return false;
      }
      throw new RegistryException(Kind.UNAVAILABLE, blob.subject + ": " + message);
    }
  }

  /** {@code bytes a-b/total} → {a, b, total or -1 for *}; null when malformed. */
  static long[] contentRange(String header) {
    if (header == null) {
      return null;
    }
    java.util.regex.Matcher m = CONTENT_RANGE.matcher(header.trim());
    if (!m.matches()) {
      return null;
    }
    try {
      return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
          m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3))};
    } catch (NumberFormatException e) {
      return null;
    }
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

  // ---------------------------------------------------------------- helpers

  @Override
  public void close() {
    access.close();
  }
}
