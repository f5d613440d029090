package org.modelpack.csi.bench;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import org.modelpack.csi.testing.ModelArtifactBuilder.Content;

/**
 * Writes raw layer blobs straight into docker-registry's filesystem storage (the distribution
 * v2 layout: {@code docker/registry/v2/blobs/sha256/<2>/<hex>/data} and the repository's
 * {@code _layers/sha256/<hex>/link}), for {@link ManyFilesModels}: the same bytes the model
 * builder generates from the same seeds, so its push finds every blob present.
 */
final class RegistryStorage {
  private RegistryStorage() {}

  static void prefill(Path storage, String repository, int files, long size, long seed,
      Path work) throws Exception {
    Path v2 = storage.resolve("docker/registry/v2");
    Path layers = v2.resolve("repositories").resolve(repository).resolve("_layers/sha256");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < files; i++) {
        long s = seed + i;
        done.add(pool.submit(() -> {
          Path tmp = Files.createTempFile(work, "prefill-", ".bin");
          MessageDigest sha = MessageDigest.getInstance("SHA-256");
          try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), sha)) {
            Content.generated(size, s).writeTo(out);
          }
          String hex = HexFormat.of().formatHex(sha.digest());
          Path data = v2.resolve("blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex)
              .resolve("data");
          Files.createDirectories(data.getParent());
          Files.move(tmp, data, StandardCopyOption.REPLACE_EXISTING);
          Path link = layers.resolve(hex).resolve("link");
          Files.createDirectories(link.getParent());
          Files.write(link, ("sha256:" + hex).getBytes(StandardCharsets.US_ASCII));
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
