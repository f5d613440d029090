package org.modelpack.csi.unpack;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.modelpack.csi.error.Excerpt;
import org.modelpack.csi.modelpack.LayerFormat;

/**
 * Reads the entries of a tar, tar+gzip or tar+zstd layer blob and tells the three ways reading
 * can fail apart (docs/decisions/0820):
 *
 * <ul>
 *   <li>the bytes are not the archive they claim to be (bad gzip or zstd data, a truncated
 *       stream, a corrupt header, any exception the tar parser throws on hostile input):
 *       {@link MalformedLayerException};
 *   <li>the decoded stream exceeds the layer's {@link ExpansionBudget}, or the metadata of one
 *       entry (header records, PAX records, GNU long names, skipped data), which the parser
 *       holds in memory, exceeds {@link #MAX_ENTRY_METADATA_BYTES}: {@link
 *       ExpansionLimitException} or {@link MalformedLayerException};
 *   <li>the local blob file cannot be read: its own {@link IOException}, unchanged.
 * </ul>
 */
final class TarEntryReader implements Closeable {
  /** Largest tar metadata one entry may carry; a real one (a 4 KiB path, xattrs) is far below. */
  static final int MAX_ENTRY_METADATA_BYTES = 1 << 20;
  private static final int BUFFER_SIZE = 64 * 1024;

  private final String digest;
  private final LayerFormat format;
  private final ExpansionBudget budget;
  private final InputStream file;
  private TarArchiveInputStream tar;
  /** True while the parser reads a header; what it reads then is metadata. */
  private boolean inHeader;
  private long metadataBytes;
  /** The current entry's data, read through {@link #decode}. */
  private final InputStream data = new InputStream() {
    @Override
    public int read() throws IOException {
      return decode(() -> tar.read());
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return decode(() -> tar.read(b, off, len));
    }
  };

  private TarEntryReader(Path blob, LayerFormat format, String digest, ExpansionBudget budget)
      throws IOException {
    this.digest = digest;
    this.format = format;
    this.budget = budget;
    this.file = new LocalFile(new BufferedInputStream(Files.newInputStream(blob), BUFFER_SIZE));
  }

  static TarEntryReader open(Path blob, LayerFormat format, String digest, ExpansionBudget budget)
      throws IOException {
    TarEntryReader r = new TarEntryReader(blob, format, digest, budget);
    try {
      // The gzip header is read here already.
      InputStream plain = r.decode(() -> r.decompress(r.file));
      r.tar = new TarArchiveInputStream(r.new Counting(plain), StandardCharsets.UTF_8.name());
      return r;
    } catch (IOException | RuntimeException e) {
      r.file.close();
      throw e;
    }
  }

  /** The next entry, or null at the end of the archive. */
  TarArchiveEntry next() throws IOException {
    inHeader = true;
    metadataBytes = 0;
    TarArchiveEntry entry;
    try {
      entry = decode(() -> tar.getNextEntry());
    } finally {
      inHeader = false;
    }
    // commons-compress only records a wrong checksum; GNU tar refuses the header, and so do we.
    if (entry != null && !entry.isCheckSumOK()) {
      throw new MalformedLayerException(digest, format, "the header of entry '"
          + Excerpt.of(entry.getName()) + "' has a wrong checksum");
    }
    return entry;
  }

  /** The current entry's data. */
  InputStream data() {
    return data;
  }

  @Override
  public void close() throws IOException {
    if (tar != null) {
      tar.close();
    } else {
      file.close();
    }
  }

  private InputStream decompress(InputStream in) throws IOException {
    return switch (format) {
      case TAR -> in;
      case TAR_GZIP -> new GZIPInputStream(in, BUFFER_SIZE); // reads concatenated members too
      case TAR_ZSTD -> new BufferedInputStream(new ZstdInputStreamNoFinalizer(in), BUFFER_SIZE);
      case RAW -> throw new IllegalArgumentException("raw layers are not archives");
    };
  }

  private interface Read<T> {
    T run() throws IOException;
  }

  /** Runs a read of the archive, turning what is not a local or budget failure into malformed. */
  private <T> T decode(Read<T> read) throws IOException {
    try {
      return read.run();
    } catch (IOException | RuntimeException e) {
      throw classify(e);
    }
  }

  private IOException classify(Exception e) {
    // The parser and the decompressors may wrap what our own streams threw: look down the chain.
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ExpansionLimitException || t instanceof MalformedLayerException) {
        return (IOException) t;
      }
      if (t instanceof LocalReadFailure local) {
        return local.getCause();
      }
    }
    String problem = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e.getCause() != null && e.getCause().getMessage() != null) {
      problem += " (" + e.getCause().getMessage() + ")";
    }
    return new MalformedLayerException(digest, format, problem, e);
  }

  /** A failure reading the local blob file: not the artifact's fault. */
  private static final class LocalReadFailure extends IOException {
    private static final long serialVersionUID = 1L;

    LocalReadFailure(IOException cause) {
      super(cause);
    }

    @Override
    public synchronized IOException getCause() {
      return (IOException) super.getCause();
    }
  }

  /** The blob file, its failures marked as local. */
  private static final class LocalFile extends FilterInputStream {
    LocalFile(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return in.read();
      } catch (IOException e) {
        throw new LocalReadFailure(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return in.read(b, off, len);
      } catch (IOException e) {
        throw new LocalReadFailure(e);
      }
    }

    @Override
    public long skip(long n) throws IOException {
      try {
        return in.skip(n);
      } catch (IOException e) {
        throw new LocalReadFailure(e);
      }
    }
  }

  /** The decoded tar stream, counted against the budget and, inside headers, as metadata. */
  private final class Counting extends FilterInputStream {
    Counting(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        count(n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = in.skip(n);
      if (skipped > 0) {
        count(skipped);
      }
      return skipped;
    }

    private void count(long n) throws IOException {
      // Metadata first: where both bounds are crossed, it is the more precise diagnosis.
      if (inHeader) {
        metadataBytes += n;
        if (metadataBytes > MAX_ENTRY_METADATA_BYTES) {
          throw new MalformedLayerException(digest, format, "the metadata of one tar entry "
              + "(header records, PAX records, long names, skipped data) exceeds "
              + MAX_ENTRY_METADATA_BYTES + " bytes");
        }
      }
      budget.decoded(n);
    }
  }
}
