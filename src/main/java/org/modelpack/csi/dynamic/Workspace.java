package org.modelpack.csi.dynamic;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.modelpack.csi.fs.Dirs;
import org.modelpack.csi.fs.FileTrees;
import org.modelpack.csi.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory of one dynamic volume, {@code <root>/volumes/<volume>/}: {@code status.json},
 * {@code csi/csi.sock} (the API socket, a hard link to the socket the driver listens on) and
 * {@code models/<mount_id>/model} (each the mount point of one model). The pod sees it through
 * a read-only bind, so only the driver writes here, through this path. Directories are 0755:
 * the pod's user, whoever it is, reads them.
 */
final class Workspace {
  private static final Logger log = LoggerFactory.getLogger(Workspace.class);
  static final String STATUS = "status.json";
  static final String MODELS = "models";
  static final String MODEL = "model";
  static final String CSI = "csi";
  static final String SOCKET = "csi.sock";
  private static final ObjectWriter WRITER =
      Json.mapper().writer(SerializationFeature.INDENT_OUTPUT);

  final String volume;
  final Path dir;

  Workspace(Path volumesDir, String volume) {
    this.volume = volume;
    this.dir = volumesDir.resolve(volume);
  }

  Path socketLink() {
    return dir.resolve(CSI).resolve(SOCKET);
  }

  Path modelsDir() {
    return dir.resolve(MODELS);
  }

  /** Where mount {@code mountId}'s model is mounted, as seen through {@code target}. */
  static Path mountPoint(Path target, String mountId) {
    return target.resolve(MODELS).resolve(mountId).resolve(MODEL);
  }

  /** Makes the (empty) workspace; a leftover of the same name is removed first. */
  void create() throws IOException {
    if (Files.exists(dir)) {
      FileTrees.delete(dir);
    }
    Dirs.create(dir, Dirs.SHARED);
    Dirs.create(modelsDir(), Dirs.SHARED);
    Dirs.create(dir.resolve(CSI), Dirs.SHARED);
  }

  Optional<RootStatus> status() {
    Path file = dir.resolve(STATUS);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      RootStatus s = Json.mapper().readValue(file.toFile(), RootStatus.class);
      return s != null && s.dynamic() ? Optional.of(s) : Optional.empty();
    } catch (IOException e) {
      log.warn("ignoring unreadable {}: {}", file, e.getMessage());
      return Optional.empty();
    }
  }

  void write(RootStatus status) throws IOException {
    FileTrees.writeAtomically(dir.resolve(STATUS), WRITER.writeValueAsBytes(status), false);
    // Atomic writes are private; the pod reads this file to learn its volume's name.
    Files.setPosixFilePermissions(dir.resolve(STATUS),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
  }

  /** Makes {@code models/<mountId>/model}, the mount point of a model; idempotent. */
  void createMountPoint(String mountId) throws IOException {
    Dirs.create(modelsDir().resolve(mountId), Dirs.SHARED);
    Dirs.create(modelsDir().resolve(mountId).resolve(MODEL), Dirs.SHARED);
  }

  /** Removes {@code models/<mountId>} if it holds nothing but its empty mount point. */
  void removeMountPoint(String mountId) {
    Path m = modelsDir().resolve(mountId);
    try {
      Files.deleteIfExists(m.resolve(MODEL)); // rmdir: fails if anything is in it
      Files.deleteIfExists(m);
    } catch (IOException e) {
      log.warn("volume {}: cannot remove {}: {}", volume, m, e.toString());
    }
  }

  /** The mount ids that have a directory under {@code models/}. */
  List<String> mountIds() throws IOException {
    List<String> ids = new ArrayList<>();
    try (DirectoryStream<Path> list = Files.newDirectoryStream(modelsDir())) {
      for (Path p : list) {
        if (Files.isDirectory(p)) {
          ids.add(p.getFileName().toString());
        }
      }
    } catch (NoSuchFileException e) {
      return List.of();
    }
    ids.sort(null);
    return ids;
  }

  boolean hasMountPoint(String mountId) {
    return Files.isDirectory(modelsDir().resolve(mountId).resolve(MODEL));
  }

  /** Deletes the workspace; call once nothing is mounted from or in it. */
  void delete() throws IOException {
    if (Files.exists(dir)) {
      FileTrees.delete(dir);
    }
  }
}
