package org.modelpack.csi.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Volumes and mounts after a restart: a volume directory the driver kept is a complete model
 * whose records match the disk, and every mount under the test's directory is a target the
 * test knows of, serving a complete, read-only model from its own volume.
 */
final class VolumeChecks {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A target the test knows of.
   *
   * @param mustBeMounted published and not touched by the interrupted call; otherwise the
   *     target of that call, which may or may not be mounted (kubelet will call again)
   */
  record Target(String volumeId, CrashModels.Model model, boolean mustBeMounted) {}

  private VolumeChecks() {}

  /**
   * Every {@code volumes/<id>/} left: status.json and layers.json readable, every recorded
   * layer in the store, the recorded layers those of the model, and {@code model/} the
   * complete model, nothing more.
   */
  static List<String> volumeDirs(Path rootDir, CrashModels models) throws IOException {
    List<String> findings = new ArrayList<>();
    for (Path dir : StoreChecks.list(rootDir.resolve("volumes"))) {
      if (!Files.isDirectory(dir) || dir.getFileName().toString().startsWith(".")) {
        continue; // LeftoverChecks reports it
      }
      String id = dir.getFileName().toString();
      JsonNode status;
      try {
        status = JSON.readTree(dir.resolve("status.json").toFile());
      } catch (IOException e) {
        findings.add("volumes/" + id + " kept without a readable status.json ("
            + ModelTreeDiff.countFiles(dir.resolve("model")) + " model files): " + e);
        continue;
      }
      String what = "volumes/" + id + " (state " + status.path("state").asText() + ")";
      CrashModels.Model model = models.byReference(status.path("reference").asText());
      if (model == null) {
        findings.add(what + " names reference " + status.path("reference")
            + ", which the suite never published");
        continue;
      }
      findings.addAll(record(rootDir, dir, what, model));
      String diff = ModelTreeDiff.diff(dir.resolve("model"), model.files());
      if (diff != null) {
        findings.add(what + " holds a partial tree of " + model.name() + ": " + diff);
      }
    }
    return findings;
  }

  private static List<String> record(Path rootDir, Path dir, String what,
      CrashModels.Model model) {
    List<String> findings = new ArrayList<>();
    JsonNode record;
    try {
      record = JSON.readTree(dir.resolve("layers.json").toFile());
    } catch (IOException e) {
      findings.add(what + " kept without a readable layers.json: " + e);
      return findings;
    }
    if (!dir.getFileName().toString().equals(record.path("volume_id").asText())) {
      findings.add(what + ": layers.json names volume " + record.path("volume_id"));
    }
    TreeSet<String> recorded = new TreeSet<>();
    for (JsonNode layer : record.path("layers")) {
      String digest = layer.path("digest").asText();
      recorded.add(digest);
      boolean tree = "TREE".equalsIgnoreCase(layer.path("kind").asText());
      Path entry = rootDir.resolve("store").resolve(tree ? "trees" : "blobs")
          .resolve(digest.replace(':', '/'));
      if (!(tree ? Files.isDirectory(entry) : Files.isRegularFile(entry))) {
        findings.add(what + ": layers.json lists " + digest + ", which the store does not have");
      }
    }
    if (!recorded.equals(new TreeSet<>(model.layers().keySet()))) {
      findings.add(what + ": layers.json lists " + recorded.size() + " layers, "
          + model.name() + " has " + model.layers().size());
    }
    return findings;
  }

  /**
   * Mounts under {@code scope} (the test's directory): only {@code targets}; each a single,
   * read-only bind of its own volume's model directory serving the complete model; and every
   * target that must be mounted is.
   */
  static List<String> mounts(Path scope, Map<Path, Target> targets) throws IOException {
    List<String> findings = new ArrayList<>();
    Map<Path, List<MountPoints.Mount>> byPoint = new LinkedHashMap<>();
    for (MountPoints.Mount m : MountPoints.under(scope)) {
      byPoint.computeIfAbsent(m.point(), k -> new ArrayList<>()).add(m);
    }
    for (Map.Entry<Path, List<MountPoints.Mount>> e : byPoint.entrySet()) {
      Path point = e.getKey();
      Target t = targets.get(point);
      MountPoints.Mount top = e.getValue().get(e.getValue().size() - 1);
      String rel = scope.relativize(point).toString();
      if (t == null) {
        findings.add("stray mount at " + rel + " (of " + top.root() + ")");
        continue;
      }
      if (e.getValue().size() > 1) {
        findings.add(e.getValue().size() + " mounts stacked at " + rel);
      }
      if (!top.readOnly() || Files.isWritable(point)) {
        findings.add("target " + rel + " of " + t.volumeId() + " is mounted writable");
      }
      if (!top.root().endsWith("/volumes/" + t.volumeId() + "/model")) {
        findings.add("target " + rel + " of " + t.volumeId() + " serves " + top.root());
      }
      String diff = ModelTreeDiff.diff(point, t.model().files());
      if (diff != null) {
        findings.add("target " + rel + " of " + t.volumeId() + " serves a partial tree of "
            + t.model().name() + ": " + diff);
      }
    }
    for (Map.Entry<Path, Target> e : targets.entrySet()) {
      if (e.getValue().mustBeMounted() && !byPoint.containsKey(e.getKey())) {
        findings.add("published target " + scope.relativize(e.getKey()) + " of "
            + e.getValue().volumeId() + " lost its mount");
      }
    }
    return findings;
  }
}
