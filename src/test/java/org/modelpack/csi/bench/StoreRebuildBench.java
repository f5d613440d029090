package org.modelpack.csi.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.modelpack.csi.store.EntryKind;
import org.modelpack.csi.store.EvictionPolicy;
import org.modelpack.csi.store.LayerStore;
import org.modelpack.csi.store.StoreLayout;
import org.modelpack.csi.store.VolumeRecord;

/**
 * Store rebuild at start, for bench/store-rebuild.sh.
 *
 * <pre>
 * StoreRebuildBench generate ROOT ENTRIES VOLUMES LAYERS_PER_VOLUME
 *     ROOT/store/blobs/sha256/&lt;sha256 of content&gt;  ENTRIES small raw blobs (0444, as stored)
 *     ROOT/volumes/&lt;id&gt;/layers.json               VOLUMES records naming LAYERS_PER_VOLUME
 *                                                  blobs each (every blob used by some volume)
 * StoreRebuildBench measure ROOT RUNS
 *     per run, alternating the order: the baseline (list ROOT/store/blobs/sha256 and
 *     ROOT/volumes, stat every blob and every layers.json) and LayerStore.open(...) on the same
 *     files; prints "run K baseline_ms rebuild_ms entries referenced"
 * </pre>
 */
public final class StoreRebuildBench {
  private StoreRebuildBench() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[1]);
    switch (args[0]) {
      case "generate" -> generate(root, Integer.parseInt(args[2]), Integer.parseInt(args[3]),
          Integer.parseInt(args[4]));
      case "measure" -> measure(root, Integer.parseInt(args[2]));
      default -> throw new IllegalArgumentException("generate or measure, not " + args[0]);
    }
  }

  private static void generate(Path root, int entries, int volumes, int perVolume)
      throws Exception {
    Path blobs = root.resolve("store/blobs/sha256");
    Files.createDirectories(blobs);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    List<String> digests = new ArrayList<>(entries);
    for (int i = 0; i < entries; i++) {
      byte[] content = ("synthetic layer " + i + "\n").repeat(8).getBytes(StandardCharsets.UTF_8);
      String hex = HexFormat.of().formatHex(sha.digest(content));
      Path file = blobs.resolve(hex);
      Files.write(file, content);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
      digests.add("sha256:" + hex);
    }
    ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    Instant now = Instant.now();
    for (int v = 0; v < volumes; v++) {
      String id = "csi-" + String.format("%05d", v);
      List<VolumeRecord.Layer> layers = new ArrayList<>();
      for (int k = 0; k < perVolume; k++) {
        String digest = digests.get((v * perVolume + k) % entries);
        layers.add(new VolumeRecord.Layer(digest, EntryKind.BLOB, List.of("shard-" + k + ".bin")));
      }
      Path dir = root.resolve("volumes").resolve(id);
      Files.createDirectories(dir);
      Files.write(dir.resolve(VolumeRecord.FILE), json.writeValueAsBytes(new VolumeRecord(id,
          "registry.example/models/m" + (v % 50) + ":v1", digests.get(v % entries),
          now.minusSeconds(v), layers)));
    }
    System.out.printf("generated %d blobs and %d volume records under %s%n", entries, volumes,
        root);
  }

  private static void measure(Path root, int runs) throws Exception {
    StoreLayout layout = new StoreLayout(root.resolve("store"));
    Path volumes = root.resolve("volumes");
    for (int run = 1; run <= runs; run++) {
      long base;
      long[] rebuild;
      if (run % 2 == 1) {
        base = timeBaseline(layout, volumes);
        rebuild = open(layout, volumes);
      } else {
        rebuild = open(layout, volumes);
        base = timeBaseline(layout, volumes);
      }
      System.out.printf("run %d %.1f %.1f %d %d%n", run, base / 1e6, rebuild[0] / 1e6,
          rebuild[1], rebuild[2]);
    }
  }

  /** Times LayerStore.open alone; the counts are taken after the clock stopped. */
  private static long[] open(StoreLayout layout, Path volumes) throws IOException {
    long s = System.nanoTime();
    try (LayerStore store = LayerStore.open(layout, volumes, 0, EvictionPolicy.DEFAULT,
        Clock.systemUTC())) {
      long t = System.nanoTime() - s;
      var entries = store.entries();
      int referenced = (int) entries.stream().filter(e -> !e.volumes().isEmpty()).count();
      return new long[] {t, entries.size(), referenced};
    }
  }

  /** Lists and stats the same files the rebuild looks at; returns nanoseconds. */
  private static long timeBaseline(StoreLayout layout, Path volumes) throws IOException {
    long s = System.nanoTime();
    long n = 0;
    try (DirectoryStream<Path> blobs = Files.newDirectoryStream(layout.blobs().resolve("sha256"))) {
      for (Path p : blobs) {
        n += Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size();
      }
    }
    try (DirectoryStream<Path> vols = Files.newDirectoryStream(volumes)) {
      for (Path v : vols) {
        n += Files.readAttributes(v.resolve(VolumeRecord.FILE), BasicFileAttributes.class).size();
      }
    }
    long t = System.nanoTime() - s;
    if (n <= 0) {
      throw new IllegalStateException("nothing listed");
    }
    return t;
  }
}
