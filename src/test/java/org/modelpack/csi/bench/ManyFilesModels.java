package org.modelpack.csi.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.modelpack.csi.registry.Reference;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.registry.RegistrySettings;
import org.modelpack.csi.testing.ModelArtifactBuilder;
import org.modelpack.csi.testing.ModelArtifactBuilder.Compression;
import org.modelpack.csi.testing.ModelArtifactBuilder.TarEntry;

/**
 * Generates and pushes the many-file models of bench/many-files.sh; blobs are written under
 * WORK_DIR first (never held in memory), file contents are pseudo-random and reproducible.
 *
 * <pre>
 * ManyFilesModels raw WORK_DIR REFERENCE FILES BYTES_PER_FILE [SEED]
 *     FILES raw layers of one file each (files/f-NNNNNN.bin), like the 2,008-file model
 * ManyFilesModels tar WORK_DIR REFERENCE FILES BYTES_PER_FILE [SEED] LAYERS
 *     FILES files spread over LAYERS uncompressed tar layers, 1,000 files per directory
 * </pre>
 * Models pushed with different SEEDs (default 0) share no layer. With {@code
 * -Dregistry.storage=DIR} (the registry's filesystem storage root), raw layers are written
 * straight into the registry's storage, so the push only asks (HEAD) for each: three requests
 * per blob through a registry on a loaded 2-core machine took minutes for 20,000 layers.
 */
public final class ManyFilesModels {
  private ManyFilesModels() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[1]);
    Reference ref = Reference.parse(args[2]);
    int files = Integer.parseInt(args[3]);
    long size = Long.parseLong(args[4]);
    long seed = args.length > 5 ? Long.parseLong(args[5]) * 1_000_000_007L : 0;
    Files.createDirectories(work);
    ModelArtifactBuilder model = ModelArtifactBuilder.create(work);
    switch (args[0]) {
      case "raw" -> {
        String storage = System.getProperty("registry.storage");
        if (storage != null) {
          RegistryStorage.prefill(Path.of(storage), ref.repository(), files, size, seed,
              work);
        }
        for (int i = 0; i < files; i++) {
          model.rawFile(String.format("files/f-%06d.bin", i), size, seed + i);
        }
      }
      case "tar" -> {
        int layers = Integer.parseInt(args[6]);
        int perLayer = (files + layers - 1) / layers;
        for (int l = 0; l < layers; l++) {
          List<TarEntry> entries = new ArrayList<>();
          for (int i = l * perLayer; i < Math.min(files, (l + 1) * perLayer); i++) {
            entries.add(TarEntry.file(String.format("d-%03d/f-%06d.bin", i / 1000, i), size, seed + i));
          }
          model.tarLayer("weight", Compression.NONE, null, entries);
        }
      }
      default -> throw new IllegalArgumentException("raw or tar, not " + args[0]);
    }
    try (RegistryClient client = new RegistryClient(RegistrySettings.defaults())) {
      model.push(client, ref);
    }
    System.out.printf("pushed %s: %d files of %d bytes%n", ref, files, size);
  }
}
