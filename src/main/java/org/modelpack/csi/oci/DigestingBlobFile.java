package org.modelpack.csi.oci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
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
  /** End of the run being read back. Guarded by {@link #lock}. */
  private long readBackTo;
  /**
   * While reading back: a copy of the hasher at {@link #hashed} (the read-back updates the hasher
   * itself outside the lock), so the prefix can be named meanwhile; null if it cannot be copied.
   * Guarded by {@link #lock}.
   */
  private MessageDigest settled;
  /**
   * Writes hashed (counted in {@link #hashed}) that have not landed yet: the hashed prefix is
   * not on disk whole meanwhile. Guarded by {@link #lock}.
   */
  private int landing;
  /** A hashed write failed: the hashed prefix names bytes the file may lack, until a restart. */
  private boolean torn;
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
    return openAt(path, expected, verified,
        keep > verified ? List.of(new ByteRun(verified, keep)) : List.of());
  }

  /**
   * As above, keeping the first {@code verified} bytes and the runs {@code ahead} of them (in
   * order, disjoint, at or after {@code verified}: the parts an earlier parallel download had
   * written), which {@link #writtenAhead()} then names: a run the file holds only in part is cut
   * to what it holds, one it does not reach is dropped, and the file is cut after the last run
   * kept.
   */
  public static DigestingBlobFile openAt(Path path, Digest expected, long verified,
      List<ByteRun> ahead) throws IOException {
    if (verified < 0) {
      throw new IllegalArgumentException("cannot keep a prefix of " + verified + " bytes");
    }
    long last = verified;
    for (ByteRun r : ahead) {
      if (r.start() < last) {
        throw new IllegalArgumentException("runs " + ahead + " are not in order after the "
            + verified + " verified bytes");
      }
      last = r.end();
    }
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ,
        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    DigestingBlobFile f = new DigestingBlobFile(path, expected, channel);
    try {
      long length = channel.size();
      long hashedPart = length >= verified ? verified : 0;
      long kept = hashedPart;
      if (hashedPart == verified) {
        for (ByteRun r : ahead) {
          long end = Math.min(r.end(), length);
          if (end > r.start()) {
            f.ahead.put(r.start(), end);
            kept = end;
          }
        }
      }
      channel.truncate(kept);
      f.readBack(0, hashedPart);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return f;
  }

  /** The hashed bytes from the start and their digest: what a later process may resume from. */
  public record Prefix(long size, Digest digest) {}

  /** The hashed prefix and the runs written beyond it, taken at one instant. */
  public record Progress(Prefix prefix, List<ByteRun> ahead) {}

  /**
   * The hashed prefix as it is now; null while a hashed write has not landed yet, or after one
   * failed, so a caller asks again later.
   */
  public Prefix hashedPrefix() {
    Progress p = progress();
    return p == null ? null : p.prefix();
  }

  /**
   * The hashed prefix, every byte of it on disk, and the runs written ahead of it, as one
   * consistent picture (a run being read back counts as ahead); null when
   * {@link #hashedPrefix()} is.
   */
  public Progress progress() {
    synchronized (lock) {
      MessageDigest state = readingBack ? settled : hasher;
      if (landing > 0 || torn || state == null) {
        return null;
      }
      MessageDigest copy = copyOf(state);
      if (copy == null) {
        return null; // a provider without clone: nothing to resume from, never wrong
      }
      return new Progress(new Prefix(hashed, new Digest(algorithm,
          HexFormat.of().formatHex(copy.digest()))), runsAheadLocked());
    }
  }

  private static MessageDigest copyOf(MessageDigest md) {
    try {
      return (MessageDigest) md.clone();
    } catch (CloneNotSupportedException e) {
      return null;
    }
  }

  @Override
  public List<ByteRun> writtenAhead() {
    synchronized (lock) {
      return runsAheadLocked();
    }
  }

  /** The runs written ahead of {@link #hashed}, the one being read back first. */
  private List<ByteRun> runsAheadLocked() {
    List<ByteRun> runs = new ArrayList<>(ahead.size() + 1);
    if (readingBack && readBackTo > hashed) {
      runs.add(new ByteRun(hashed, readBackTo));
    }
    ahead.forEach((start, end) -> runs.add(new ByteRun(start, end)));
    return List.copyOf(runs);
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
        landing++;
      }
    }
    boolean landed = false;
    try {
      long at = position;
      while (src.hasRemaining()) {
        at += file.write(src, at);
      }
      landed = true;
    } finally {
      if (inline) {
        synchronized (lock) {
          landing--;
          torn |= !landed;
        }
      }
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
      torn = false;
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
        readBackTo = to;
        settled = copyOf(hasher);
      }
      try {
        readBack(from, to);
        writeback.reached(to);
      } finally {
        synchronized (lock) {
          if (hashed < to) { // the read failed: the rest of the run is still written ahead
            ahead.put(hashed, to);
          }
          readingBack = false;
          settled = null;
        }
      }
    }
  }

  /**
   * Hashes bytes {@code [from, to)} of the file, {@code from} being {@link #hashed}, advancing
   * {@link #hashed} as it goes; the hasher is updated outside the lock (no writer hashes while
   * a read-back runs), and a copy of it is kept at each step for {@link #progress()}.
   */
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
      MessageDigest step = copyOf(hasher);
      synchronized (lock) {
        hashed = at;
        settled = step;
      }
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
