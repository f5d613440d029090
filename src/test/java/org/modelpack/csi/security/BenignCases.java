package org.modelpack.csi.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.modelpack.csi.security.HostileCase.Ctx;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.Content;
import org.modelpack.csi.testing.ModelArtifactBuilder.FileMeta;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;

/** Legal artifacts next to the corpus's hostile ones: each must be served as it is. */
final class BenignCases {
  private BenignCases() {}

  static List<BenignCase> all() {
    return List.of(
        new BenignCase("odd-but-legal-names", c -> served(c.builder()
            .rawFile("données/模型 (v2)/weights-ü.safetensors", 3000, 1)
            .rawFile("..a", 10, 2)
            .rawFile("a..b", 10, 3)
            .rawFile(".hidden/...", 10, 4)
            .rawFile("name with spaces & [brackets] #1.txt", 10, 5)
            .rawFile("n".repeat(255), 10, 6)
            .rawFile(("deep-directory-" + "x".repeat(85) + "/").repeat(10) + "leaf.bin", 10, 7)
            .tarLayer("weight.config", Compression.GZIP, null, List.of(
                TarEntry.file("./tokenizer/vocab.txt", 2000, 8),
                TarEntry.file("ünïcode/🙂.json", 20, 9))), c),
            target -> assertThat(target.resolve("tokenizer/vocab.txt")).isRegularFile()),
        new BenignCase("every-format-with-links-inside-the-model", c -> served(c.builder()
            .rawFile("model.safetensors", 50_000, 10)
            .tarLayer("doc", Compression.NONE, null, List.of(
                TarEntry.dir("docs/v1"), TarEntry.file("docs/v1/README.md", 500, 11),
                TarEntry.symlink("docs/latest", "v1/README.md"),
                TarEntry.hardlink("docs/README.md", "docs/v1/README.md")))
            .tarLayer("code", Compression.ZSTD, null, List.of(
                TarEntry.file("code/run.py", 300, 12),
                TarEntry.symlink("code/up", "../docs/v1"))), c),
            target -> {
              assertThat(Files.readAllBytes(target.resolve("docs/latest")))
                  .isEqualTo(Files.readAllBytes(target.resolve("docs/v1/README.md")));
              assertThat(Files.isSymbolicLink(target.resolve("code/up"))).isTrue();
            }),
        new BenignCase("special-entries-skipped-and-setuid-dropped", c -> served(c.builder()
            .tarLayer("code", Compression.GZIP, null, List.of(
                new TarEntry("dev/null", TarConstants.LF_CHR, null, null, FileMeta.DEFAULT),
                new TarEntry("dev/sda", TarConstants.LF_BLK, null, null, FileMeta.DEFAULT),
                new TarEntry("pipe", TarConstants.LF_FIFO, null, null, FileMeta.DEFAULT),
                TarEntry.file("bin/tool", Content.text("#!/bin/sh\n")).withMeta(
                    new FileMeta(06755, Instant.parse("2026-01-01T00:00:00Z"))))), c),
            target -> {
              assertThat(target.resolve("dev")).doesNotExist();
              assertThat(Files.exists(target.resolve("pipe"), LinkOption.NOFOLLOW_LINKS))
                  .isFalse();
              assertThat(Files.getPosixFilePermissions(target.resolve("bin/tool")))
                  .contains(PosixFilePermission.OWNER_EXECUTE)
                  .doesNotContain(PosixFilePermission.OWNER_WRITE);
              assertThat((int) Files.getAttribute(target.resolve("bin/tool"), "unix:mode")
                  & 07000).as("setuid, setgid and sticky bits").isZero();
            }),
        new BenignCase("compressible-layer-well-within-the-ratio", c -> served(c.builder()
            .tarLayer(Compression.GZIP, TarEntry.file("vocab.bin", compressible(4 << 20))), c),
            target -> assertThat(Files.size(target.resolve("vocab.bin"))).isEqualTo(4 << 20)));
  }

  /** {@code size} bytes compressing about 20-fold: a real-looking, compressible file. */
  private static Content compressible(long size) {
    return new Content() {
      public long size() {
        return size;
      }

      public void writeTo(java.io.OutputStream out) throws java.io.IOException {
        org.modelpack.csi.testing.HostileArtifacts.compressibleTo(size, 20, 42).write(out);
      }
    };
  }

  private static BenignCase.Served served(ModelArtifactBuilder b, Ctx c) throws Exception {
    PushedArtifact a = b.push(c.pusher, c.ref());
    Map<String, String> files = new HashMap<>();
    a.files().forEach(f -> files.put(f.path().startsWith("./") ? f.path().substring(2)
        : f.path(), f.sha256()));
    Set<String> tars = a.manifest().layers().stream()
        .filter(l -> !l.mediaType().endsWith(".raw")).map(l -> l.digest())
        .collect(Collectors.toSet());
    return new BenignCase.Served(a.reference().toString(), files, tars);
  }
}
