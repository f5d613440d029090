package org.modelpack.csi.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.modelpack.csi.oci.BlobWriter;
import org.modelpack.csi.oci.Digest;
import org.modelpack.csi.registry.RegistryException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bytes {@code [start, end)} of a blob, written at their offsets into a {@link BlobWriter}
 * (which hashes them) and resumed with {@code Range} after breaks (docs/decisions/0302). The
 * whole blob as one stream may be answered with 200, which starts it over; a chunk of a
 * parallel download must be answered with 206.
 */
final class BlobRange {
  private static final Logger LOG = LoggerFactory.getLogger(BlobRange.class);
  /**
   * The JDK's socket reads return at most 128 KiB, so a bigger buffer is never filled; it only
   * lives long enough to be promoted and grow the old generation (decision 1230).
   */
  static final int COPY_BUFFER = 128 * 1024;
  private static final Pattern CONTENT_RANGE =
      Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)");

  /** The registry did not answer a chunk request with 206: fall back to one stream. */
  static final class RangeIgnored extends IOException {
    RangeIgnored(String message) {
      super(message);
    }
  }

  /** A chunk stopped because another chunk failed. */
  static final class PartAborted extends IOException {
    PartAborted() {
      super("aborted because another part failed");
    }
  }

  private final BlobDownload blob;
  private final BlobWriter out;
  private final LongConsumer wrote;
  private final long start;
  private final long end;
  private final boolean part;
  private final Retrier retrier;
  private final BooleanSupplier aborted;
  /** Why the transfer last broke with bytes kept, until a 206 resumes it; else null. */
  private RetryCause broken;
  /** Next blob offset to fetch; written by one thread, read by the in-order hasher. */
  private volatile long pos;

  private BlobRange(BlobDownload blob, BlobWriter out, LongConsumer wrote, long start, long end,
      boolean part, Retrier retrier, BooleanSupplier aborted) {
    this.blob = blob;
    this.out = out;
    this.wrote = wrote;
    this.start = start;
    this.end = end;
    this.part = part;
    this.retrier = retrier;
    this.aborted = aborted;
    this.pos = start;
  }

  /**
   * Downloads the whole blob as one stream into {@code out}, emptied first, syncs it and returns
   * the digest of what was written; {@code first} is an already-sent answer, or null.
   */
  static Digest fetchWhole(BlobDownload blob, BlobWriter out, RegistryResponse first)
      throws IOException {
    return fetchWhole(blob, out, first, 0);
  }

  /**
   * As above, but going on at {@code from} when it is not 0: the writer already holds the bytes
   * before it (kept on disk by an earlier download). A registry that ignores or refuses that
   * range makes the blob start over.
   */
  static Digest fetchWhole(BlobDownload blob, BlobWriter out, RegistryResponse first, long from)
      throws IOException {
    BlobRange whole = new BlobRange(blob, out, n -> { }, 0, blob.size(), false,
        blob.transport().retrier(blob.subject()), () -> false);
    if (from > 0) {
      whole.continueAt(from);
    } else {
      out.restart();
    }
    whole.fetch(first);
    return out.finish();
  }

  /**
   * Starts this range at {@code from} instead of its start, the writer holding the bytes before
   * it from an earlier download; the first 206 counts as a {@link RetryCause#RESTART} resume.
   */
  BlobRange continueAt(long from) {
    pos = from;
    broken = RetryCause.RESTART;
    return this;
  }

  /**
   * Chunk {@code [start, end)} of a parallel download, with a retry budget of its own; it stops
   * once {@code aborted} says so and gives {@code onWrite} the byte count of every write.
   */
  static BlobRange chunk(BlobDownload blob, BlobWriter out, long start, long end,
      BooleanSupplier aborted, LongConsumer onWrite) {
    return new BlobRange(blob, out, onWrite, start, end, true,
        blob.transport().retrier(blob.subject() + " bytes " + start + "+"), aborted);
  }

  long position() {
    return pos;
  }

  boolean complete() {
    return pos >= end;
  }

  /** Some bytes of the range arrived. */
  boolean delivered() {
    return pos > start;
  }

  /** Asks the registry (not a redirect target of an earlier try) for the missing bytes. */
  RegistryResponse request() throws RegistryException {
    Map<String, String> headers;
    if (!part && pos == 0) {
      headers = Map.of();
    } else if (end == blob.size()) {
      headers = Map.of("Range", "bytes=" + pos + "-");
    } else {
      headers = Map.of("Range", "bytes=" + pos + "-" + (end - 1));
    }
    return blob.send(headers, retrier);
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
      if (limit == ASK_AGAIN) {
        resp = null;
        continue;
      }
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

  /** What {@link #accept} returns when the range changed and must be asked for anew. */
  private static final long ASK_AGAIN = -2;

  /**
   * Checks an answer and returns the blob offset its body ends at (exclusive); -1 for a 416
   * that leaves the verification to decide, {@link #ASK_AGAIN} after starting over.
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
      if (announced >= 0 && announced != blob.size()) {
        resp.close();
        throw new RegistryException(Kind.INVALID_CONTENT, blob.subject()
            + ": registry announced " + announced + " bytes but the descriptor says "
            + blob.size());
      }
      if (pos > 0) {
        LOG.info("{}: the registry ignored Range at {}; starting over", blob.subject(), pos);
        out.restart();
        pos = 0;
      }
      return blob.size() + 1; // one extra byte proves the body is too long
    }
    RetryCause resuming = broken;
    broken = null;
    if (status == 206 && asked) {
      long[] cr = contentRange(resp.headers().firstValue("Content-Range").orElse(null));
      if (cr != null && cr[2] >= 0 && cr[2] != blob.size()) {
        resp.close();
        throw new RegistryException(Kind.INVALID_CONTENT, blob.subject() + ": registry says "
            + "the blob has " + cr[2] + " bytes but the descriptor says " + blob.size());
      }
      if (cr == null || cr[0] != pos || cr[1] < pos || cr[1] >= end
          || (cr[2] >= 0 && cr[2] != blob.size())
          || (announced >= 0 && announced != cr[1] - cr[0] + 1)) {
        resp.close();
        String why = "206 with Content-Range '"
            + resp.headers().firstValue("Content-Range").orElse("") + "' for a request from "
            + pos;
        if (retrier.failedTry(RetryCause.BAD_RANGE, why, null)) {
          return accept(request());
        }
        throw new RegistryException(Kind.INVALID_CONTENT, blob.subject() + ": " + why);
      }
      if (resuming != null) {
        retrier.stats().resumed(resuming);
      }
      return cr[1] + 1;
    }
    if (status == 416 && asked && pos >= blob.size()) {
      resp.close();
      return -1;
    }
    if (status == 416 && !part && pos > 0) {
      resp.close();
      LOG.info("{}: the registry refused Range at {} (416); starting over", blob.subject(), pos);
      out.restart();
      pos = 0;
      return ASK_AGAIN;
    }
    byte[] body = RegistryTransport.readQuietly(resp);
    throw RegistryErrors.fromResponse(blob.subject(), status, body);
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
        throw new RegistryException(Kind.UNAVAILABLE, blob.subject() + ": download was "
            + "interrupted after " + pos + " bytes");
      }
      int n;
      try {
        n = in.read(buf, 0, (int) Math.min(buf.length, limit - pos));
      } catch (IOException e) {
        return broke(RetryCause.ofBody(e), e.toString());
      }
      if (n < 0) {
        break;
      }
      if (n > 0 && !moved) {
        moved = true;
        retrier.progressed();
      }
      out.write(ByteBuffer.wrap(buf, 0, n), pos);
      pos += n;
      wrote.accept(n);
    }
    if (!part && pos > blob.size()) {
      throw new RegistryException(Kind.INVALID_CONTENT, blob.subject() + " failed "
          + "verification: the registry sent more than the " + blob.size()
          + " bytes of the descriptor");
    }
    if (pos >= end) {
      return true;
    }
    if (pos < limit) {
      return broke(RetryCause.CLOSED_EARLY, "connection closed early");
    }
    return false; // a shorter 206 than asked for: ask for the rest
  }

  private boolean broke(RetryCause cause, String why) throws RegistryException {
    String message = "transfer broke after " + (pos - start) + " of " + (end - start)
        + " bytes" + (part ? " of the range from " + start : "") + " (" + why + ")";
    if (retrier.failedTry(cause, message, null)) {
      broken = pos > start ? cause : null;
      return false;
    }
    throw new RegistryException(Kind.UNAVAILABLE, blob.subject() + ": " + message);
  }

  /** {@code bytes a-b/total} → {a, b, total or -1 for *}; null when malformed. */
  static long[] contentRange(String header) {
    if (header == null) {
      return null;
    }
    Matcher m = CONTENT_RANGE.matcher(header.trim());
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
}
