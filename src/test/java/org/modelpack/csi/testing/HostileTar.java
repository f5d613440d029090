package org.modelpack.csi.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes tar streams header by header, with the lies a tar library refuses to write: sizes that
 * do not match the data, sizes of 2^62 bytes, corrupt checksums, invalid number fields, GNU
 * long names and PAX records of any length, sparse type flags. Data is streamed (filled with one
 * byte value), so a bomb of gigabytes never sits in memory. Nothing is closed: the caller owns
 * {@code out}.
 */
public final class HostileTar {
  private static final int BLOCK = 512;

  private final OutputStream out;

  public HostileTar(OutputStream out) {
    this.out = out;
  }

  /** A ustar header; {@code size} in octal when it fits 11 digits, else in base-256. */
  public HostileTar header(String name, byte type, long size) throws IOException {
    return header(name, type, sizeField(size), null, false);
  }

  /** A ustar header with a link target (symlinks, hard links). */
  public HostileTar link(String name, byte type, String target) throws IOException {
    return header(name, type, sizeField(0), target, false);
  }

  /** A header whose size field holds exactly {@code field} (12 bytes), e.g. not a number. */
  public HostileTar headerWithSizeField(String name, byte type, byte[] field) throws IOException {
    return header(name, type, Arrays.copyOf(field, 12), null, false);
  }

  /** A header whose checksum does not match its bytes. */
  public HostileTar headerWithBadChecksum(String name, long size) throws IOException {
    return header(name, (byte) '0', sizeField(size), null, true);
  }

  /** {@code n} bytes of {@code fill}, then padding to the next block. */
  public HostileTar data(long n, byte fill) throws IOException {
    byte[] buf = new byte[64 * 1024];
    Arrays.fill(buf, fill);
    for (long left = n; left > 0; ) {
      int k = (int) Math.min(buf.length, left);
      out.write(buf, 0, k);
      left -= k;
    }
    return pad(n);
  }

  /** What {@code content} writes (it must write exactly {@code n} bytes), then padding. */
  public HostileTar data(long n, ModelArtifactBuilder.BlobWriter content) throws IOException {
    content.write(out);
    return pad(n);
  }

  /** These bytes as an entry's data, then padding. */
  public HostileTar data(byte[] bytes) throws IOException {
    out.write(bytes);
    return pad(bytes.length);
  }

  /** A regular file entry with {@code content}. */
  public HostileTar file(String name, String content) throws IOException {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    return header(name, (byte) '0', b.length).data(b);
  }

  /** A GNU long-name entry ({@code ././@LongLink}, type L) of {@code length} bytes {@code fill}. */
  public HostileTar gnuLongName(long length, byte fill) throws IOException {
    return header("././@LongLink", (byte) 'L', length).data(length, fill);
  }

  /** A PAX extended header (type x) holding one {@code comment} record of {@code value} bytes. */
  public HostileTar paxComment(long value) throws IOException {
    // "<len> comment=<value>\n", where <len> counts the whole record, its own digits included.
    long base = " comment=\n".length() + value;
    long total = base + String.valueOf(base).length();
    total = base + String.valueOf(total).length();
    header("./PaxHeaders/x", (byte) 'x', total);
    out.write((total + " comment=").getBytes(StandardCharsets.US_ASCII));
    byte[] buf = new byte[64 * 1024];
    Arrays.fill(buf, (byte) 'a');
    for (long left = value; left > 0; ) {
      int k = (int) Math.min(buf.length, left);
      out.write(buf, 0, k);
      left -= k;
    }
    out.write('\n');
    return pad(total);
  }

  /** A PAX extended header (type x) with these records verbatim, e.g. {@code size=...}. */
  public HostileTar pax(String... keyValues) throws IOException {
    StringBuilder records = new StringBuilder();
    for (String kv : keyValues) {
      String body = " " + kv + "\n";
      int len = body.length() + 1;
      while (String.valueOf(len).length() + body.length() != len) {
        len++;
      }
      records.append(len).append(body);
    }
    byte[] b = records.toString().getBytes(StandardCharsets.UTF_8);
    return header("./PaxHeaders/x", (byte) 'x', b.length).data(b);
  }

  /** The two zero blocks that end an archive. */
  public HostileTar end() throws IOException {
    out.write(new byte[2 * BLOCK]);
    return this;
  }

  private HostileTar pad(long n) throws IOException {
    int rest = (int) (n % BLOCK);
    if (rest != 0) {
      out.write(new byte[BLOCK - rest]);
    }
    return this;
  }

  private HostileTar header(String name, byte type, byte[] size, String linkName,
      boolean badChecksum) throws IOException {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, name.getBytes(StandardCharsets.UTF_8));
    put(h, 100, 8, octal(0644, 8));
    put(h, 108, 8, octal(0, 8));
    put(h, 116, 8, octal(0, 8));
    System.arraycopy(size, 0, h, 124, 12);
    put(h, 136, 12, octal(1_700_000_000L, 12));
    h[156] = type;
    if (linkName != null) {
      put(h, 157, 100, linkName.getBytes(StandardCharsets.UTF_8));
    }
    put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
    put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
    Arrays.fill(h, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    if (badChecksum) {
      sum -= 1; // commons-compress accepts any larger sum (COMPRESS-177), never a smaller one
    }
    put(h, 148, 8, String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII));
    out.write(h);
    return this;
  }

  private static byte[] sizeField(long size) {
    if (size >= 0 && size < 077777777777L) {
      return octal(size, 12);
    }
    byte[] f = new byte[12];
    f[0] = (byte) 0x80; // base-256, as GNU tar and star write large numbers
    for (int i = 11; i >= 4; i--) {
      f[i] = (byte) (size >>> (8 * (11 - i)));
    }
    return f;
  }

  private static byte[] octal(long value, int width) {
    String s = String.format("%0" + (width - 1) + "o", value);
    byte[] b = new byte[width];
    System.arraycopy(s.getBytes(StandardCharsets.US_ASCII), 0, b, 0, width - 1);
    return b;
  }

  private static void put(byte[] h, int off, int len, byte[] value) {
    System.arraycopy(value, 0, h, off, Math.min(len, value.length));
  }
}
