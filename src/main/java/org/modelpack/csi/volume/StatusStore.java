package org.modelpack.csi.volume;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Stream;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads and atomically writes {@code status.json} files. */
public final class StatusStore {
  private static final Logger log = LoggerFactory.getLogger(StatusStore.class);
  static final String FILE = "status.json";

  /** Indented: operators read status files. */
  private static final ObjectWriter WRITER =
      Json.mapper().writer(SerializationFeature.INDENT_OUTPUT);

  /** The status in {@code volumeDir}; an empty or unreadable file counts as absent (as in Go). */
  public Optional<VolumeStatus> read(Path volumeDir) {
    Path file = volumeDir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.ofNullable(Json.mapper().readValue(file.toFile(), VolumeStatus.class));
    } catch (IOException e) {
      log.warn("ignoring unreadable {}: {}", file, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Atomic but not fsynced: a status describes mounts, and no mount survives the power cut that
   * could roll the file back (after a reboot kubelet publishes again). A lost non-MOUNTED state
   * means "incomplete" to a restarted driver, which starts that volume over.
   */
  public void write(Path volumeDir, VolumeStatus status) throws IOException {
    FileTrees.writeAtomically(volumeDir.resolve(FILE), WRITER.writeValueAsBytes(status), false);
  }

  /**
   * Adds a running pull's progress to a PULLING status. Best effort: the progress is for
   * operators, and a publish that records it answers ABORTED anyway.
   */
  void writeProgress(Path volumeDir, VolumeStatus.Progress progress, Instant now) {
    try {
      Optional<VolumeStatus> pulling = read(volumeDir)
          .filter(s -> s.state() == VolumeState.PULLING);
      if (pulling.isPresent()) {
        write(volumeDir, pulling.get().withProgress(progress, now));
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot record progress in {}: {}", volumeDir, e.getMessage());
    }
  }

  /** How many volumes under {@code volumesDir} are mounted at a target or more; 0: unreadable. */
  /**
   * How many volumes of {@code kind} serve a model at one target or more (a dynamic volume's
   * workspace names no model and is not counted; its mounts are).
   */
  int countMounted(Path volumesDir, VolumeKind kind) {
    try (Stream<Path> list = Files.list(volumesDir)) {
      return (int) list.filter(dir -> VolumeKind.of(dir.getFileName().toString()) == kind)
          .filter(Files::isDirectory).map(this::read).flatMap(Optional::stream)
          .filter(s -> s.reference() != null && !s.targetPaths().isEmpty()).count();
    } catch (IOException | RuntimeException e) {
      log.debug("cannot count mounted volumes: {}", e.toString());
      return 0;
    }
  }
}
