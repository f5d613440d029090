package org.modelpack.csi.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a kill left on disk, taken right after the kill and before the restart cleans anything:
 * one line for the trial's report ("where was the driver when it died") and a full listing for
 * the evidence file of a failing trial, so every reported defect can be checked by hand.
 */
final class TrialEvidence {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LOG_LINES = 150;

  private TrialEvidence() {}

  /** e.g. {@code crash-a: MOUNTED, layers.json, model 13/430, target unmounted; ingest 0}. */
  static String atKill(CrashNode node, CrashModels models, List<CrashPhase.Call> calls)
      throws IOException {
    List<String> parts = new ArrayList<>();
    for (CrashPhase.Call c : calls) {
      Path vol = node.rootDir().resolve("volumes").resolve(c.volumeId());
      StringBuilder b = new StringBuilder(c.volumeId()).append(": ");
      if (!Files.isDirectory(vol)) {
        b.append("no volume dir");
      } else {
        String state;
        try {
          state = JSON.readTree(vol.resolve("status.json").toFile()).path("state").asText();
        } catch (IOException e) {
          state = "no status.json";
        }
        b.append(state)
            .append(Files.exists(vol.resolve("layers.json")) ? ", layers.json" : ", no record")
            .append(", model ").append(ModelTreeDiff.countFiles(vol.resolve("model")))
            .append('/').append(c.model().apply(models).fileCount());
      }
      b.append(", target ").append(MountPoints.at(node.target(c.volumeId())).isEmpty()
          ? "unmounted" : "mounted");
      parts.add(b.toString());
    }
    parts.add("ingest " + StoreChecks.list(node.rootDir().resolve("store/ingest")).size()
        + ", staging " + StoreChecks.list(node.rootDir().resolve("staging")).size()
        + ", volumes/ " + StoreChecks.list(node.rootDir().resolve("volumes")).stream()
            .map(p -> p.getFileName().toString()).toList());
    return String.join("; ", parts);
  }

  /** Every path under root_dir except the store's verified entries: mode, links, size, name. */
  static String listing(Path rootDir) throws IOException {
    StringBuilder b = new StringBuilder();
    try (Stream<Path> all = Files.walk(rootDir)) {
      for (Path p : all.sorted().toList()) {
        String rel = rootDir.relativize(p).toString();
        if (rel.matches("store/(blobs|trees|manifests)/sha256/.+/.+")) {
          continue; // hundreds of tree files; the store checks name any bad one
        }
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS);
        Object links = Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        b.append(a.isDirectory() ? 'd' : a.isSymbolicLink() ? 'l' : '-')
            .append(PosixFilePermissions.toString(a.permissions())).append(' ')
            .append(String.format("%3s %10d ", links, a.size())).append(rel).append('\n');
      }
    }
    return b.toString();
  }

  /** Writes a failing trial's evidence file. */
  static void write(Path file, String header, String listingAtKill, Path killedLog,
      Path restartedLog) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, header + "\n\n== root_dir right after the kill ==\n" + listingAtKill
        + "\n== log of the killed driver (last " + LOG_LINES + " lines) ==\n" + tail(killedLog)
        + "\n== log of the restarted driver (last " + LOG_LINES + " lines) ==\n"
        + tail(restartedLog));
  }

  private static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(none)\n";
    }
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_LINES), lines.size()))
        + "\n";
  }
}
