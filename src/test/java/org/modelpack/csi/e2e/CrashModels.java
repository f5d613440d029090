package org.modelpack.csi.e2e;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.modelpack.csi.oci.Descriptor;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedArtifact;
import org.modelpack.csi.testing.ModelArtifactBuilder.PushedFile;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;

/**
 * The models the crash suite publishes, and what a complete copy of each looks like.
 *
 * <p>Sized so that every phase of a publish lasts long enough for a random kill to land in it:
 * {@code big} has 30 raw weight files (256 KiB to 2 MiB: many downloads, many links, many
 * unlinks at unpublish) and a gzip tar layer of 400 small files in 20 directories (an
 * extraction with hundreds of file creations, and the bulk of the files an unpublish deletes).
 * {@code sibling} shares ten of those raw layers and the tar layer with {@code big} and adds
 * four of its own, so two concurrent publishes meet on shared layers in the store.
 * {@code bystander} shares nothing; it stays published through every trial, and a crash or a
 * restart must never disturb it.
 *
 * <p>Contents come from fixed seeds, not from the suite's random seed: a replayed seed must
 * meet the same artifacts.
 */
final class CrashModels {
  static final int BIG_RAW_FILES = 30;
  static final int TAR_DIRS = 20;
  static final int TAR_FILES_PER_DIR = 20;

  /** What one layer must hold: a raw layer one file, a tar layer a whole tree. */
  record Layer(String digest, boolean tar, Map<String, String> files) {}

  /**
   * A pushed model as the test publishes it.
   *
   * @param reference the tag reference, through the proxy the driver pulls from
   * @param files every regular file of a complete copy: path in the model to sha256
   */
  record Model(String name, String reference, Map<String, String> files,
      Map<String, Layer> layers) {
    long fileCount() {
      return files.size();
    }
  }

  final Model big;
  final Model sibling;
  final Model bystander;

  private CrashModels(Model big, Model sibling, Model bystander) {
    this.big = big;
    this.sibling = sibling;
    this.bystander = bystander;
  }

  /**
   * Builds the three models under {@code workDir} and pushes them to {@code registryHost}; their
   * references name {@code pullHost} (a proxy in front of that registry).
   */
  static CrashModels push(Path workDir, String registryHost, String pullHost,
      Path dockerConfigDir) throws IOException {
    try (RegistryClient pusher = new RegistryClient(RegistrySettings.defaults()
        .withDockerConfigDir(dockerConfigDir))) {
      List<TarEntry> tokenizer = tarEntries("tokenizer", TAR_DIRS, TAR_FILES_PER_DIR, 1_000);
      ModelArtifactBuilder big = ModelArtifactBuilder.create(workDir.resolve("big"));
      SplittableRandom sizes = new SplittableRandom(42);
      List<Long> rawSizes = new ArrayList<>();
      for (int i = 1; i <= BIG_RAW_FILES; i++) {
        long size = 256 * 1024 + sizes.nextLong(1792 * 1024);
        rawSizes.add(size);
        big.rawFile(weightName(i), size, 100 + i);
      }
      big.tarLayer(Compression.GZIP, tokenizer.toArray(TarEntry[]::new));

      ModelArtifactBuilder sibling = ModelArtifactBuilder.create(workDir.resolve("sibling"));
      for (int i = 1; i <= 10; i++) {
        sibling.rawFile(weightName(i), rawSizes.get(i - 1), 100 + i); // same bytes: same layer
      }
      for (int i = 1; i <= 4; i++) {
        sibling.rawFile("extra/adapter-" + i + ".safetensors", 512 * 1024 + i * 4096, 500 + i);
      }
      sibling.tarLayer(Compression.GZIP, tokenizer.toArray(TarEntry[]::new));

      ModelArtifactBuilder bystander = ModelArtifactBuilder.create(workDir.resolve("bystander"));
      for (int i = 1; i <= 3; i++) {
        bystander.rawFile("bystander-" + i + ".safetensors", 100_000 + i, 900 + i);
      }
      bystander.tarLayer(Compression.GZIP,
          tarEntries("vocab", 2, 10, 2_000).toArray(TarEntry[]::new));

      return new CrashModels(
          model("big", big, pusher, registryHost, pullHost),
          model("sibling", sibling, pusher, registryHost, pullHost),
          model("bystander", bystander, pusher, registryHost, pullHost));
    }
  }

  private static String weightName(int i) {
    return "model-%05d-of-%05d.safetensors".formatted(i, BIG_RAW_FILES);
  }

  private static List<TarEntry> tarEntries(String top, int dirs, int filesPerDir, long seed) {
    List<TarEntry> entries = new ArrayList<>();
    SplittableRandom sizes = new SplittableRandom(seed);
    for (int d = 0; d < dirs; d++) {
      String dir = "%s/part-%02d".formatted(top, d);
      entries.add(TarEntry.dir(dir));
      for (int f = 0; f < filesPerDir; f++) {
        entries.add(TarEntry.file("%s/piece-%03d.json".formatted(dir, f),
            1024 + sizes.nextLong(3 * 1024), seed + d * 1000L + f));
      }
    }
    return entries;
  }

  private static Model model(String name, ModelArtifactBuilder builder, RegistryClient pusher,
      String registryHost, String pullHost) throws IOException {
    String repoTag = "crash/" + name + ":v1";
    PushedArtifact pushed = builder.push(pusher, Reference.parse(registryHost + "/" + repoTag));
    Map<String, String> files = new LinkedHashMap<>();
    for (PushedFile f : pushed.files()) {
      files.put(f.path(), f.sha256());
    }
    // The builder lists files in layer order: one per raw layer, then the tar layer's (each
    // model here ends with its one tar layer).
    Map<String, Layer> layers = new HashMap<>();
    List<PushedFile> remaining = new ArrayList<>(pushed.files());
    List<Descriptor> descriptors = pushed.manifest().layers();
    for (int i = 0; i < descriptors.size(); i++) {
      Descriptor d = descriptors.get(i);
      boolean tar = d.mediaType().contains(".tar");
      if (tar != (i == descriptors.size() - 1)) {
        throw new IllegalStateException(name + ": the tar layer must be the last one");
      }
      Map<String, String> own = new LinkedHashMap<>();
      if (tar) {
        remaining.forEach(f -> own.put(f.path(), f.sha256()));
        remaining.clear();
      } else {
        PushedFile f = remaining.remove(0);
        if (!d.digest().equals("sha256:" + f.sha256())) {
          throw new IllegalStateException(name + ": raw layer " + d.digest() + " is not " + f);
        }
        own.put(f.path(), f.sha256());
      }
      layers.put(d.digest(), new Layer(d.digest(), tar, Map.copyOf(own)));
    }
    return new Model(name, pullHost + "/" + repoTag, Map.copyOf(files), Map.copyOf(layers));
  }

  /** Every layer of every model, by digest (shared layers once). */
  Map<String, Layer> allLayers() {
    Map<String, Layer> all = new HashMap<>();
    for (Model m : List.of(big, sibling, bystander)) {
      all.putAll(m.layers());
    }
    return all;
  }

  Model byReference(String reference) {
    for (Model m : List.of(big, sibling, bystander)) {
      if (m.reference().equals(reference)) {
        return m;
      }
    }
    return null;
  }
}
