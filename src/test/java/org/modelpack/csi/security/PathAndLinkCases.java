package org.modelpack.csi.security;

import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static org.modelpack.csi.security.HostileCase.refused;
import static org.modelpack.csi.testing.HostileArtifacts.bytes;
import static org.modelpack.csi.testing.HostileArtifacts.gzip;
import static org.modelpack.csi.testing.HostileArtifacts.tar;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.modelpack.csi.security.HostileCase.Ctx;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.Content;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;

/**
 * Corpus cases that aim at paths: file path annotations and tar entry names that leave the
 * volume, cannot exist or lie in listings; symlinks and hard links out of the volume or through
 * each other; special entries. Every one is refused with INVALID_ARGUMENT naming the layer.
 */
final class PathAndLinkCases {
  static final String RAW = "application/vnd.cncf.model.weight.v1.raw";
  /** Names of files an attack would create: none may appear anywhere. */
  static final String PWNED = "pwned";

  private PathAndLinkCases() {}

  static List<HostileCase> all() {
    return List.of(
        annotation("annotation-parent-traversal", c -> "../../../" + PWNED, "'..' segment"),
        annotation("annotation-nested-traversal", c -> "weights/../../" + PWNED, "'..' segment"),
        annotation("annotation-absolute-path", c -> c.sentinel.resolve(PWNED).toString(),
            "path is absolute"),
        annotation("annotation-backslash-traversal", c -> "..\\..\\" + PWNED, "backslash"),
        annotation("annotation-drive-letter", c -> "C:/" + PWNED, "drive letter"),
        annotation("annotation-dot-segment", c -> "weights/./" + PWNED, "'.' segment"),
        annotation("annotation-empty-segment", c -> "weights//" + PWNED, "empty segment"),
        annotation("annotation-trailing-slash", c -> "weights/", "empty segment"),
        annotation("annotation-nul", c -> PWNED + "\0.bin", "NUL"),
        annotation("annotation-newline", c -> "model\n" + PWNED + ".bin", "control character"),
        annotation("annotation-256-byte-name", c -> "w/" + "n".repeat(256),
            "segment of 256 bytes"),
        annotation("annotation-5000-character-path",
            c -> ("a".repeat(99) + "/").repeat(50) + PWNED, "5005 bytes long"),
        annotation("annotation-placed-beyond-path-max",
            c -> ("d".repeat(254) + "/").repeat(16) + "f", "Linux allows"),
        refused("annotations", "annotation-of-3-mib-in-the-manifest", INVALID_ARGUMENT,
            c -> c.push(c.builder().blobLayer(RAW,
                Map.of("org.cncf.model.filepath", ("p".repeat(200) + "/").repeat(15_000)),
                bytes("x".getBytes(StandardCharsets.UTF_8)))),
            p -> List.of(p.layer(0), "3015000 bytes long", "more characters)")),
        refused("annotations", "annotation-missing-on-a-raw-layer", INVALID_ARGUMENT,
            c -> c.push(c.builder().rawFile("ok.bin", 10, 1)
                .blobLayer(RAW, Map.of(), bytes(new byte[] {1, 2, 3}))),
            p -> List.of(p.layer(1), "no file path annotation")),
        refused("annotations", "annotation-duplicate-path", INVALID_ARGUMENT,
            c -> c.push(c.builder().rawFile("same.bin", 10, 1).rawFile("same.bin", 11, 2)),
            p -> List.of(p.layer(1), "also claimed by layer 0")),
        refused("annotations", "annotation-malformed-file-metadata", INVALID_ARGUMENT,
            c -> c.push(c.builder().blobLayer(RAW, Map.of("org.cncf.model.filepath", "w.bin",
                "org.cncf.model.file.metadata+json", "{\"mode\": \"rwx\""),
                bytes(new byte[] {1}))),
            p -> List.of(p.layer(0), "org.cncf.model.file.metadata+json")),

        tarEntry("tar-parent-traversal", c -> "../../" + PWNED, "'..' segment"),
        tarEntry("tar-nested-traversal", c -> "a/../../" + PWNED, "'..' segment"),
        tarEntry("tar-absolute-name", c -> c.sentinel.resolve(PWNED).toString(),
            "path is absolute"),
        tarEntry("tar-backslash-name", c -> "..\\" + PWNED, "backslash"),
        tarEntry("tar-escape-sequence-name", c -> PWNED + "\u001b[2J.txt", "control character"),
        tarEntry("tar-300-byte-pax-name", c -> "dir/" + "n".repeat(300), "segment of 300 bytes"),
        tarEntry("tar-5000-character-pax-name", c -> ("b".repeat(99) + "/").repeat(50) + PWNED,
            "5005 bytes long"),
        refused("tar names", "tar-duplicate-entry", INVALID_ARGUMENT,
            c -> c.push(c.builder().tarLayer(Compression.NONE, TarEntry.file("dup.txt", 5, 1),
                TarEntry.file("dup.txt", 6, 2))),
            p -> List.of(p.layer(0), "path dup.txt is provided twice")),
        refused("tar names", "tar-entry-clashing-with-a-raw-layer", INVALID_ARGUMENT,
            c -> c.push(c.builder().rawFile("config.json", 10, 1)
                .tarLayer(Compression.GZIP, TarEntry.file("config.json", 12, 2))),
            p -> List.of("config.json", "provided by two layers"))
            .storing(p -> Set.of(p.layer(1))),

        link("symlink-absolute", c -> List.of(TarEntry.symlink("lib", c.sentinel.toString())),
            "is absolute"),
        link("symlink-escaping-the-root", c -> List.of(TarEntry.symlink("up", "../../..")),
            "points outside the model root"),
        link("symlink-dotdot-after-a-name", c -> List.of(TarEntry.dir("a"),
            TarEntry.symlink("t", "a/../../..")), "'..' after a name"),
        link("symlink-control-character", c -> List.of(TarEntry.symlink("s", "a\nb")),
            "control character"),
        link("write-through-a-symlink-of-the-same-layer", c -> List.of(TarEntry.dir("real"),
            TarEntry.symlink("alias", "real"), TarEntry.file("alias/" + PWNED, 5, 1)),
            "existing path component is a symlink"),
        link("hardlink-absolute", c -> List.of(TarEntry.hardlink("h",
            c.sentinel.resolve("secret").toString())), "hard link target"),
        link("hardlink-traversal", c -> List.of(TarEntry.hardlink("h", "../../sentinel/secret")),
            "hard link target"),
        link("hardlink-to-a-symlink", c -> List.of(TarEntry.file("a.txt", 5, 1),
            TarEntry.symlink("s", "a.txt"), TarEntry.hardlink("h", "s")),
            "not a regular file extracted earlier"),
        link("hardlink-to-a-later-entry", c -> List.of(TarEntry.hardlink("h", "later.txt"),
            TarEntry.file("later.txt", 5, 1)), "not a regular file extracted earlier"),
        refused("links", "raw-layer-through-a-symlink-of-a-tar-layer", INVALID_ARGUMENT,
            c -> c.push(c.builder().tarLayer("weight", Compression.NONE, null, List.of(
                    TarEntry.dir("docs"), TarEntry.symlink("models", "docs")))
                .rawFile("models/" + PWNED + ".bin", 10, 1)),
            p -> List.of("models"))
            .storing(p -> Set.of(p.layer(0))),

        refused("special files", "sparse-entry", INVALID_ARGUMENT,
            c -> c.push(c.builder().blobLayer(RAW.replace(".raw", ".tar"), Map.of(),
                tar(t -> t.file("ok.txt", "ok").header("holes.bin", (byte) 'S', 0).end()))),
            p -> List.of(p.layer(0), "tar entry 'holes.bin' is a sparse file")),
        refused("special files", "sparse-entry-via-pax-in-gzip", INVALID_ARGUMENT,
            c -> c.push(c.builder().blobLayer(RAW.replace(".raw", ".tar+gzip"), Map.of(),
                gzip(tar(t -> t.pax("GNU.sparse.size=1048576", "GNU.sparse.map=0,0")
                    .header("holes.bin", TarConstants.LF_NORMAL, 0).end())))),
            p -> List.of(p.layer(0), "sparse file")));
  }

  /** A raw layer whose file path annotation is {@code path}, next to a benign one. */
  private static HostileCase annotation(String name, java.util.function.Function<Ctx, String> path,
      String problem) {
    return refused("annotations", name, INVALID_ARGUMENT,
        c -> c.push(c.builder().rawFile("ok.bin", 10, 1)
            .rawLayerWithFilepath(path.apply(c), Content.text("owned"))),
        p -> List.of(p.layer(1), problem));
  }

  /** A tar layer whose second entry is named {@code entry}. */
  private static HostileCase tarEntry(String name, java.util.function.Function<Ctx, String> entry,
      String problem) {
    return refused("tar names", name, INVALID_ARGUMENT,
        c -> c.push(c.builder().tarLayer("weight", Compression.GZIP, null, List.of(
            TarEntry.file("fine.txt", 10, 2), TarEntry.file(entry.apply(c),
                Content.text("owned"))))),
        p -> List.of(p.layer(0), problem));
  }

  /** A tar layer of these entries. */
  private static HostileCase link(String name,
      java.util.function.Function<Ctx, List<TarEntry>> entries, String problem) {
    return refused("links", name, INVALID_ARGUMENT,
        c -> c.push(c.builder().tarLayer("weight", Compression.NONE, null, entries.apply(c))),
        p -> List.of(p.layer(0), problem));
  }
}
