package org.modelpack.csi.testing;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.oci.Manifest;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.testing.ModelArtifactBuilder.BlobWriter;

/**
 * Blob contents and registry states for hostile-artifact tests: compressed streams of anything,
 * hand-made tar streams, bombs streamed from a fill byte, cut or mislabelled bytes, indexes of
 * any shape, and blobs corrupted in the registry's own storage (a digest lie the registry
 * serves without noticing).
 */
public final class HostileArtifacts {
  private HostileArtifacts() {}

  /** Writes a tar stream header by header. */
  public interface TarWriter {
    void write(HostileTar tar) throws IOException;
  }

  public static BlobWriter tar(TarWriter writer) {
    return out -> writer.write(new HostileTar(out));
  }

  public static BlobWriter gzip(BlobWriter inner) {
    return out -> {
      try (GZIPOutputStream gz = new GZIPOutputStream(ModelArtifactBuilder.nonClosing(out), 64 * 1024)) {
        inner.write(gz);
      }
    };
  }

  public static BlobWriter zstd(BlobWriter inner) {
    return out -> {
      try (ZstdOutputStream z = new ZstdOutputStream(ModelArtifactBuilder.nonClosing(out))) {
        inner.write(z);
      }
    };
  }

  /** {@code n} pseudo-random bytes from {@code seed}: incompressible. */
  public static BlobWriter noise(long n, long seed) {
    return ModelArtifactBuilder.Content.generated(n, seed)::writeTo;
  }

  public static BlobWriter bytes(byte[] b) {
    return out -> out.write(b);
  }

  /**
   * The first {@code percent}% of what {@code inner} writes. Holds the whole stream in memory:
   * for small blobs only.
   */
  public static BlobWriter cut(BlobWriter inner, int percent) {
    return out -> {
      byte[] all = render(inner);
      out.write(all, 0, (int) ((long) all.length * percent / 100));
    };
  }

  /** What {@code inner} writes with byte {@code index} replaced by {@code value} (small blobs). */
  public static BlobWriter patched(BlobWriter inner, int index, int value) {
    return out -> {
      byte[] all = render(inner);
      all[index] = (byte) value;
      out.write(all);
    };
  }

  private static byte[] render(BlobWriter inner) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    inner.write(bos);
    return bos.toByteArray();
  }

  /**
   * Bytes that compress about {@code ratio}-fold: in every 64 KiB, {@code 64 KiB / ratio}
   * random bytes, then zeros. For layers below the ratio bound that still fill a disk.
   */
  public static BlobWriter compressibleTo(long n, int ratio, long seed) {
    return out -> {
      SplittableRandom random = new SplittableRandom(seed);
      byte[] buf = new byte[64 * 1024];
      int randomPart = buf.length / ratio;
      for (long left = n; left > 0; ) {
        Arrays.fill(buf, (byte) 0);
        byte[] r = new byte[randomPart];
        random.nextBytes(r);
        System.arraycopy(r, 0, buf, 0, randomPart);
        int k = (int) Math.min(buf.length, left);
        out.write(buf, 0, k);
        left -= k;
      }
    };
  }

  /** Pushes an index with exactly {@code entries} under {@code ref}'s tag; returns its digest. */
  public static String pushIndex(RegistryClient client, Reference ref, List<Descriptor> entries)
      throws IOException {
    byte[] json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(
        new Manifest(2, Manifest.OCI_INDEX, null, null, null, entries, null));
    return client.pushManifest(ref, json, Manifest.OCI_INDEX);
  }

  /**
   * Flips every byte of blob {@code digest} in the registry's filesystem storage, keeping its
   * length: the registry keeps serving it under the digest it no longer has.
   */
  public static void corruptInStorage(RegistryServer registry, String digest) throws IOException {
    String hex = digest.substring("sha256:".length());
    Path data = registry.storageDir().resolve("docker/registry/v2/blobs/sha256")
        .resolve(hex.substring(0, 2)).resolve(hex).resolve("data");
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      byte[] b = new byte[(int) f.length()];
      f.readFully(b);
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) ~b[i];
      }
      f.seek(0);
      f.write(b);
    }
  }

}
