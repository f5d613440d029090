package org.modelpack.csi.security;

import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.RESOURCE_EXHAUSTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.modelpack.csi.security.HostileCase.refused;
import static org.modelpack.csi.testing.HostileArtifacts.bytes;
import static org.modelpack.csi.testing.HostileArtifacts.compressibleTo;
import static org.modelpack.csi.testing.HostileArtifacts.cut;
import static org.modelpack.csi.testing.HostileArtifacts.gzip;
import static org.modelpack.csi.testing.HostileArtifacts.noise;
import static org.modelpack.csi.testing.HostileArtifacts.patched;
import static org.modelpack.csi.testing.HostileArtifacts.tar;
import static org.modelpack.csi.testing.HostileArtifacts.zstd;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.testing.HostileArtifacts;
import org.modelpack.csi.testing.ModelArtifactBuilder.BlobWriter;

/**
 * Corpus cases that lie about content: declared sizes and digests that do not match, layers
 * that expand without bound, and bytes that are not the archive their media type announces.
 */
final class ContentCases {
  static final String TAR = "application/vnd.cncf.model.weight.v1.tar";
  static final String TGZ = TAR + "+gzip";
  static final String TZST = TAR + "+zstd";
  private static final long MIB = 1L << 20;

  private ContentCases() {}

  static List<HostileCase> all() {
    return List.of(
        sizeLie("raw-size-understated", d -> d.size() - 10, FAILED_PRECONDITION,
            "the descriptor says"),
        sizeLie("raw-size-overstated", d -> d.size() + 10, FAILED_PRECONDITION,
            "the descriptor says"),
        sizeLie("raw-size-negative", d -> -1, INVALID_ARGUMENT, "negative size"),
        sizeLie("raw-size-2-to-the-62", d -> 1L << 62, INVALID_ARGUMENT,
            "more than the 1.0 PiB a layer may have"),
        refused("sizes and digests", "raw-size-beyond-the-filesystem", RESOURCE_EXHAUSTED,
            c -> c.push(c.builder().rawFile("ok.bin", 10, 1).rawFile("huge.bin", 10, 2)
                .describeLastLayerAs(d -> resized(d, c.storeFilesystemSize + 1))),
            p -> List.of(p.layer(1), "more than the whole filesystem holding the layer store"))
            .also((c, p) -> assertThat(c.registry.countBlobGets(p.layer(1)))
                .as("blob requests for a layer refused before download").isZero()),
        refused("sizes and digests", "tar-gzip-size-overstated", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TGZ, Map.of(),
                    gzip(tar(t -> t.file("a.txt", "a").end())))
                .describeLastLayerAs(d -> resized(d, d.size() + 1))),
            p -> List.of(p.layer(0), "the descriptor says")),
        refused("sizes and digests", "digest-mismatch-served-by-the-registry",
            FAILED_PRECONDITION,
            c -> {
              HostileCase.Pushed p = c.push(c.builder().rawFile("weights.bin", 4096, 3));
              HostileArtifacts.corruptInStorage(c.registry, p.layer(0));
              return p;
            },
            p -> List.of(p.layer(0), "failed verification")),

        refused("bombs", "gzip-bomb-one-entry", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TGZ, Map.of(), gzip(tar(t -> t
                .header("zeros.bin", (byte) '0', 64 * MIB).data(64 * MIB, (byte) 0).end())))),
            p -> List.of(p.layer(0), "'zeros.bin' declares 64.0 MiB",
                "pull_config.max_expansion_ratio 100 × its compressed size of")),
        refused("bombs", "zstd-bomb-one-entry", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TZST, Map.of(), zstd(tar(t -> t
                .header("zeros.bin", (byte) '0', 64 * MIB).data(64 * MIB, (byte) 0).end())))),
            p -> List.of(p.layer(0), "'zeros.bin' declares 64.0 MiB", "at least 1.0 MiB")),
        refused("bombs", "gzip-bomb-spread-over-500-entries", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TGZ, Map.of(), gzip(tar(t -> {
              for (int i = 0; i < 500; i++) {
                t.header("part-" + i, (byte) '0', 64 * 1024).data(64 * 1024, (byte) 0);
              }
              t.end();
            })))),
            p -> List.of(p.layer(0), "pull_config.max_expansion_ratio 100")),
        refused("bombs", "gzip-layer-filling-the-filesystem", RESOURCE_EXHAUSTED,
            // About 30-fold: under the ratio bound, over the free space of the node's tmpfs.
            c -> c.push(c.builder().rawFile("ok.bin", 10, 1).blobLayer(TGZ, Map.of(),
                gzip(tar(t -> {
                  for (int i = 0; i < 12; i++) {
                    t.header("shard-" + i + ".bin", (byte) '0', 8 * MIB)
                        .data(8 * MIB, compressibleTo(8 * MIB, 30, i));
                  }
                  t.end();
                })))),
            p -> List.of(p.layer(1), "of space left for extracting the layer",
                "free space of the filesystem holding")),
        refused("bombs", "tar-entry-declaring-2-to-the-62-bytes", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TAR, Map.of(), tar(t -> t.file("ok.txt", "ok")
                .header("huge.bin", (byte) '0', 1L << 62).data(4096, (byte) 7).end()))),
            p -> List.of(p.layer(0), "'huge.bin' declares 4096.0 PiB",
                "its own size, as an uncompressed tar")),
        refused("bombs", "pax-size-of-2-to-the-62-bytes", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TGZ, Map.of(), gzip(tar(t -> t
                .pax("size=" + (1L << 62)).header("huge.bin", (byte) '0', 10)
                .data(10, (byte) 7).end())))),
            p -> List.of(p.layer(0), "'huge.bin' declares 4096.0 PiB")),
        refused("bombs", "gnu-long-name-of-64-mib", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TGZ, Map.of(), gzip(tar(t -> t
                .gnuLongName(64 * MIB, (byte) 'a').file("x", "x").end())))),
            p -> List.of(p.layer(0), "the metadata of one tar entry")),
        refused("bombs", "pax-record-of-64-mib", FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TZST, Map.of(), zstd(tar(t -> t
                .paxComment(64 * MIB).file("x", "x").end())))),
            p -> List.of(p.layer(0), "the metadata of one tar entry")),

        malformed("noise-labelled-tar-gzip", TGZ, noise(8192, 1), "tar+gzip",
            "Not in GZIP format"),
        malformed("empty-blob-labelled-tar-gzip", TGZ, bytes(new byte[0]), "tar+gzip", ""),
        malformed("gzip-truncated-in-the-middle", TGZ, cut(gzip(twoFiles()), 50), "tar+gzip",
            ""),
        malformed("gzip-with-an-unknown-compression-method", TGZ,
            patched(gzip(twoFiles()), 2, 7), "tar+gzip", ""),
        malformed("gzip-of-text-not-tar", TGZ,
            gzip(bytes("not a tar archive\n".repeat(200).getBytes(StandardCharsets.UTF_8))),
            "tar+gzip", ""),
        malformed("gzip-bytes-labelled-tar-zstd", TZST, gzip(twoFiles()), "tar+zstd", ""),
        malformed("zstd-truncated-in-the-middle", TZST, cut(zstd(twoFiles()), 50), "tar+zstd",
            ""),
        malformed("noise-labelled-tar", TAR, noise(8192, 2), "tar", ""),
        malformed("tar-with-a-wrong-header-checksum", TAR, tar(t -> t.file("ok.txt", "ok")
            .headerWithBadChecksum("bad.txt", 3).data(new byte[] {1, 2, 3}).end()), "tar",
            "wrong checksum"),
        malformed("tar-with-a-size-that-is-not-a-number", TAR, tar(t -> t.file("ok.txt", "ok")
            .headerWithSizeField("bad.txt", (byte) '0', "12z45".getBytes()).end()), "tar", ""),
        refused("malformed archives", "tar-entry-longer-than-the-whole-layer",
            FAILED_PRECONDITION,
            c -> c.push(c.builder().blobLayer(TAR, Map.of(), tar(t -> t.file("ok.txt", "ok")
                .header("short.bin", (byte) '0', 100_000).data(1000, (byte) 1)))),
            p -> List.of(p.layer(0), "'short.bin' declares 97.7 KiB", "more than is left",
                "its own size, as an uncompressed tar")));
  }

  private static BlobWriter twoFiles() {
    return tar(t -> t.file("first.txt", "first").header("second.bin", (byte) '0', 200_000)
        .data(200_000, (byte) 3).end());
  }

  private static Descriptor resized(Descriptor d, long size) {
    return new Descriptor(d.mediaType(), d.digest(), size, d.annotations(), d.artifactType());
  }

  /** A raw layer (next to a benign one) listed with {@code lie(descriptor)} as its size. */
  private static HostileCase sizeLie(String name,
      java.util.function.ToLongFunction<Descriptor> lie, io.grpc.Status.Code code,
      String problem) {
    return refused("sizes and digests", name, code,
        c -> c.push(c.builder().rawFile("ok.bin", 10, 1).rawFile("liar.bin", 4096, 2)
            .describeLastLayerAs(d -> resized(d, lie.applyAsLong(d)))),
        p -> List.of(p.layer(1), problem));
  }

  /** A layer of {@code mediaType} whose bytes {@code writer} writes: not what it claims. */
  private static HostileCase malformed(String name, String mediaType, BlobWriter writer,
      String variant, String cause) {
    return refused("malformed archives", name, FAILED_PRECONDITION,
        c -> c.push(c.builder().blobLayer(mediaType, Map.of("org.cncf.model.filepath",
            "weights/"), writer)),
        p -> List.of(p.layer(0), "is not a valid " + variant + " archive", cause));
  }
}
