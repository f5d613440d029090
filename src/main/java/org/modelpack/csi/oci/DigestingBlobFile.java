package org.modelpack.csi.oci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.modelpack.csi.fs.WritebackTrigger;

/**
 * A {@link BlobWriter} into one file that hashes in the same pass as the writes. Bytes written
 * at the hashed frontier are hashed from the caller's buffer; parts written ahead of it (a
 * parallel ranged download) are remembered and read back by {@link #hashWritten} once the gap
 * before them is filled. Writeback of the hashed prefix starts while the download goes on
 * ({@link WritebackTrigger}), so the sync in {@link #finish} finds little left to write.
 */
public final class DigestingBlobFile implements BlobWriter, AutoCloseable {
  /**
   * Read-back buffer. Each call allocates one, and the JDK caches a direct copy of its size per
   * thread for the pread: 128 KiB, the largest a socket read returns anyway, keeps both small
   * (1 MiB buffers were most of the heap a pull allocated; decision 1230).
   */
  static final int READ_BACK = 128 * 1024;

  private final Path path;
  private final String algorithm;
  private final FileChannel file;
  private final MessageDigest hasher;
  private final WritebackTrigger writeback;
  private final Object lock = new Object();
  /** Bytes from the start already hashed. Guarded by {@link #lock}. */
  private long hashed;
  /** A read-back is hashing: writers must not hash meanwhile. Guarded by {@link #lock}. */
  private boolean readingBack;
  /** Written parts beyond {@link #hashed}: start → end. Guarded by {@link #lock}. */
  private final TreeMap<Long, Long> ahead = new TreeMap<>();
  private Digest finished;
  /** Whether {@link #finish} fsyncs the file; false when its owner syncs the filesystem. */
  private volatile boolean sync = true;

  private DigestingBlobFile(Path path, Digest kind, FileChannel file) {
    this.path = path;
    this.algorithm = kind.algorithm();
    this.hasher = kind.newHasher();
    this.file = file;
    this.writeback = WritebackTrigger.forFile(path);
  }

  /**
   * From now on {@link #finish} leaves the file unsynced: for the store, which syncs the whole
   * filesystem once per pull instead (docs/decisions/1220). Returns this file.
   */
  public DigestingBlobFile unsynced() {
    sync = false;
    return this;
  }

  /** Creates (or truncates) {@code path}, hashing with the algorithm of {@code expected}. */
  public static DigestingBlobFile create(Path path, Digest expected) throws IOException {
    return new DigestingBlobFile(path, expected, FileChannel.open(path,
        StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS));
  }

  /**
   * Opens the existing {@code path} (a download an earlier process left) and cuts it to its
   * first {@code keep} bytes; hashes the first {@code verified} of them from disk, so that
   * {@link #hashedPrefix()} names them until the next write or {@link #hashWritten()}, and counts
   * the rest as written ahead (hashed by the next {@link #hashWritten()}). Writing goes on from
   * there. A file shorter than {@code verified} is emptied instead. Whether the kept bytes are
   * the right ones is the caller's to check; the final digest checks them anyway.
   */
  public static DigestingBlobFile openAt(Path path, Digest expected, long verified, long keep)
      throws IOException {
    if (verified < 0 || keep < verified) {
      throw new IllegalArgumentException("cannot keep " + keep + " bytes of which " + verified
          + " are verified");
    }
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ,
        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    DigestingBlobFile f = new DigestingBlobFile(path, expected, channel);
    try {
      long length = channel.size();
      long hashedPart = length >= verified ? verified : 0;
      long kept = length >= verified ? Math.min(keep, length) : 0;
      channel.truncate(kept);
      f.readBack(0, hashedPart);
      f.hashed = hashedPart;
      if (kept > hashedPart) {
        f.ahead.put(hashedPart, kept);
      }
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return f;
  }

  /** The hashed bytes from the start and their digest: what a later process may resume from. */
  public record Prefix(long size, Digest digest) {}

  /**
   * The hashed prefix as it is now; null while parts written ahead are being read back (the
   * hasher is busy then), so a caller asks again later.
   */
  public Prefix hashedPrefix() {
    synchronized (lock) {
      if (readingBack) {
        return null;
      }
      try {
        MessageDigest copy = (MessageDigest) hasher.clone();
        return new Prefix(hashed, new Digest(algorithm, HexFormat.of().formatHex(copy.digest())));
      } catch (CloneNotSupportedException e) {
        return null; // a provider without clone: nothing to resume from, never wrong
      }
    }
  }

  public Path path() {
    return path;
  }

  @Override
  public void write(ByteBuffer src, long position) throws IOException {
    int n = src.remaining();
    boolean inline;
    synchronized (lock) {
      if (position < hashed) {
        // Bytes already hashed must not change under the digest.
        throw new IOException("write at " + position + " into " + path + " is below the "
            + hashed + " bytes already hashed");
      }
      finished = null;
      inline = position == hashed && !readingBack;
      if (inline) {
        hasher.update(src.duplicate());
        hashed += n;
      }
    }
    long at = position;
    while (src.hasRemaining()) {
      at += file.write(src, at);
    }
    if (inline) {
      writeback.reached(position + n);
    }
    if (!inline && n > 0) {
      synchronized (lock) {
        // A part's writes follow each other: extend its run rather than add one entry per
        // write, so the map holds about one entry per part however far the hashing lags.
        Map.Entry<Long, Long> run = ahead.floorEntry(position);
        if (run != null && run.getValue() >= position) {
          ahead.put(run.getKey(), Math.max(run.getValue(), position + n));
        } else {
          ahead.put(position, position + n);
        }
      }
    }
  }

  @Override
  public void restart() throws IOException {
    synchronized (lock) {
      file.truncate(0);
      hasher.reset();
      hashed = 0;
      writeback.restart();
      ahead.clear();
      finished = null;
    }
  }

  @Override
  public long hashWritten() throws IOException {
    while (true) {
      long from;
      long to;
      synchronized (lock) {
        from = hashed;
        to = hashed;
        // Parts are merged as they join up: [from, to) is the written run at the frontier.
        Map.Entry<Long, Long> e;
        while ((e = ahead.firstEntry()) != null && e.getKey() <= to) {
          ahead.pollFirstEntry();
          to = Math.max(to, e.getValue());
        }
        if (to <= from) {
          return hashed;
        }
        readingBack = true;
      }
      try {
        readBack(from, to);
        writeback.reached(to);
      } finally {
        synchronized (lock) {
          hashed = Math.max(hashed, to);
          readingBack = false;
        }
      }
    }
  }

  private void readBack(long from, long to) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(READ_BACK, to - from));
    long at = from;
    while (at < to) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), to - at));
      int n = file.read(buf, at);
      if (n <= 0) {
        throw new IOException(path + " is shorter than the " + to + " bytes written to it");
      }
      buf.flip();
      hasher.update(buf);
      at += n;
    }
  }

  @Override
  public Digest finish() throws IOException {
    hashWritten();
    synchronized (lock) {
      if (finished == null) {
        if (sync) {
          file.force(true);
        }
        finished = new Digest(algorithm, HexFormat.of().formatHex(hasher.digest()));
      }
      return finished;
    }
  }

  /** Runs of bytes written ahead of the hashed frontier (bounded by the parts, not writes). */
  int runsAhead() {
    synchronized (lock) {
      return ahead.size();
    }
  }

  /** Bytes from the start that were written and hashed. */
  public long size() {
    synchronized (lock) {
      return hashed;
    }
  }

  @Override
  public void close() throws IOException {
    writeback.close();
    file.close();
  }
}
