package org.modelpack.csi.unpack;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.modelpack.csi.modelpack.LayerFormat;

/** Builds small tar layers for tests with commons-compress. */
final class TestTar {
  static final Instant MTIME = Instant.parse("2025-03-04T05:06:07Z");

  private record Item(TarArchiveEntry entry, byte[] data) {}

  private final List<Item> items = new ArrayList<>();

  TestTar file(String name, String content) {
    return file(name, content, 0644);
  }

  TestTar file(String name, String content, int mode) {
    byte[] data = content.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(data.length);
    e.setMode(mode);
    e.setLastModifiedTime(FileTime.from(MTIME));
    items.add(new Item(e, data));
    return this;
  }

  /** A regular file whose name is written verbatim, even if absolute. */
  TestTar verbatimFile(String name, String content) {
    byte[] data = content.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    e.setSize(data.length);
    e.setMode(0644);
    items.add(new Item(e, data));
    return this;
  }

  TestTar dir(String name, int mode) {
    TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
    e.setMode(mode);
    e.setLastModifiedTime(FileTime.from(MTIME));
    items.add(new Item(e, new byte[0]));
    return this;
  }

  TestTar symlink(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
    e.setLinkName(target);
    items.add(new Item(e, new byte[0]));
    return this;
  }

  TestTar hardlink(String name, String target) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
    e.setLinkName(target);
    items.add(new Item(e, new byte[0]));
    return this;
  }

  TestTar special(String name, byte flag) {
    TarArchiveEntry e = new TarArchiveEntry(name, flag);
    items.add(new Item(e, new byte[0]));
    return this;
  }

  byte[] tarBytes(int longFileMode) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (TarArchiveOutputStream out = new TarArchiveOutputStream(bos)) {
      out.setLongFileMode(longFileMode);
      out.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      for (Item i : items) {
        out.putArchiveEntry(i.entry());
        out.write(i.data());
        out.closeArchiveEntry();
      }
    }
    return bos.toByteArray();
  }

  /** Writes the layer blob in the given format and returns its path. */
  Path writeTo(Path file, LayerFormat format) throws IOException {
    byte[] tar = tarBytes(TarArchiveOutputStream.LONGFILE_POSIX);
    try (OutputStream raw = Files.newOutputStream(file)) {
      switch (format) {
        case TAR -> raw.write(tar);
        case TAR_GZIP -> {
          try (GZIPOutputStream gz = new GZIPOutputStream(raw)) {
            gz.write(tar);
          }
        }
        case TAR_ZSTD -> {
          try (ZstdOutputStream z = new ZstdOutputStream(raw)) {
            z.write(tar);
          }
        }
        default -> throw new IllegalArgumentException(format.toString());
      }
    }
    return file;
  }

  /** gzip in two concatenated members, split in the middle of the tar stream. */
  Path writeMultiMemberGzip(Path file) throws IOException {
    byte[] tar = tarBytes(TarArchiveOutputStream.LONGFILE_POSIX);
    int half = tar.length / 2 + 7;
    try (OutputStream raw = Files.newOutputStream(file)) {
      GZIPOutputStream a = new GZIPOutputStream(raw);
      a.write(tar, 0, half);
      a.finish();
      GZIPOutputStream b = new GZIPOutputStream(raw);
      b.write(tar, half, tar.length - half);
      b.finish();
    }
    return file;
  }

  /** zstd in two concatenated frames, split in the middle of the tar stream. */
  Path writeMultiFrameZstd(Path file) throws IOException {
    byte[] tar = tarBytes(TarArchiveOutputStream.LONGFILE_POSIX);
    int half = tar.length / 2 + 3;
    try (OutputStream raw = Files.newOutputStream(file)) {
      ByteArrayOutputStream a = new ByteArrayOutputStream();
      try (ZstdOutputStream z = new ZstdOutputStream(a)) {
        z.write(tar, 0, half);
      }
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      try (ZstdOutputStream z = new ZstdOutputStream(b)) {
        z.write(tar, half, tar.length - half);
      }
      raw.write(a.toByteArray());
      raw.write(b.toByteArray());
    }
    return file;
  }

  Path writeTarWithLongFileMode(Path file, int longFileMode) throws IOException {
    Files.write(file, tarBytes(longFileMode));
    return file;
  }
}
